// The rate limit counts the work, not the conversation: tool calls, reads, prompt gets and
// completions take from a token bucket with a burst; the handshake, list calls, pings and
// notifications never do. Past the burst: 429 with Retry-After (whole seconds), while the same
// client keeps listing. At the defaults an official-SDK session that lists and pings hundreds
// of times is never limited.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { connectLegacy, connectStreamable, openSession, post, startServer } from './helpers.mjs';

const tools = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rate_limit_tools');

let nextId = 1;
const request = (method, params = {}) => ({ jsonrpc: '2.0', id: nextId++, method, params });
const toolCall = () => request('tools/call', { name: 'echo', arguments: { message: 'm' } });
const work = {
  'tools/call': toolCall,
  'resources/read': () => request('resources/read', { uri: 'test://note' }),
  'prompts/get': () => request('prompts/get', { name: 'greet', arguments: { who: 'ada' } }),
  'completion/complete': () =>
    request('completion/complete', {
      ref: { type: 'ref/prompt', name: 'greet' },
      argument: { name: 'who', value: 'a' },
    }),
};
const free = ['tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'ping'];

async function rpc(server, body, session, version = '2025-11-25') {
  const response = await post(server, body, {
    headers: { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': version },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : null };
}

describe('a small burst (RATE_LIMIT_BURST=3, 1 per minute)', () => {
  let server;
  let session;
  before(async () => {
    server = await startServer({
      tools,
      env: { RATE_LIMIT_REQUESTS: '1', RATE_LIMIT_WINDOW: '60', RATE_LIMIT_BURST: '3' },
    });
    session = await openSession(server);
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, server.log);
  });

  test('each kind of work counts; past the burst 429 with Retry-After', async () => {
    for (const method of ['tools/call', 'resources/read', 'prompts/get']) {
      const answer = await rpc(server, work[method](), session);
      assert.equal(answer.status, 200, `${method}: ${answer.text}`);
      assert.ok(answer.body.result, `${method}: ${answer.text}`);
    }
    for (const method of Object.keys(work)) {
      const refused = await rpc(server, work[method](), session);
      assert.equal(refused.status, 429, `${method}: ${refused.text}`);
      assert.equal(refused.body.error, 'rate_limited');
      // One token a minute: the next one is (almost) a minute away, in whole seconds.
      const retryAfter = refused.headers.get('retry-after');
      assert.match(retryAfter, /^[0-9]+$/);
      assert.ok(Number(retryAfter) >= 50 && Number(retryAfter) <= 60, `Retry-After: ${retryAfter}`);
    }
  });

  test('list calls, pings and the handshake keep working for the limited client', async () => {
    for (let round = 0; round < 20; round++) {
      for (const method of free) {
        const answer = await rpc(server, request(method), session);
        assert.equal(answer.status, 200, `${method}: ${answer.text}`);
        assert.ok(answer.body.result, `${method}: ${answer.text}`);
      }
    }
    const again = await openSession(server);
    assert.ok(again);
    const notification = await post(server, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }, {
      headers: { 'Mcp-Session-Id': session },
    });
    assert.equal(notification.status, 202);
    assert.equal((await fetch(`${server.origin}/live`)).status, 200);
    const metrics = await (await fetch(`${server.origin}/metrics`)).text();
    assert.match(metrics, /^mcp_rate_limit_clients [1-9]/m);
    // Still limited: listing did not refill or drain anything.
    assert.equal((await rpc(server, toolCall(), session)).status, 429);
  });

  test('a batch costs its work items; one larger than the burst is refused outright', async () => {
    const old = await openSession(server, { version: '2025-03-26' });
    const lists = await rpc(server, [request('tools/list'), request('ping')], old, '2025-03-26');
    assert.equal(lists.status, 200, lists.text);
    assert.equal(lists.body.length, 2);
    const calls = await rpc(server, [toolCall(), request('tools/list')], old, '2025-03-26');
    assert.equal(calls.status, 429, calls.text);
    const huge = await rpc(server, [toolCall(), toolCall(), toolCall(), toolCall()], old, '2025-03-26');
    assert.equal(huge.status, 400, huge.text);
    assert.match(huge.body.error.message, /more than the rate limit allows at once \(3\)/);
  });

  test('the legacy HTTP+SSE transport is limited the same way', async () => {
    const legacy = await connectLegacy(server);
    try {
      const listed = await legacy.client.listTools();
      assert.ok(listed.tools.some((tool) => tool.name === 'echo'));
      await legacy.client.ping();
      await assert.rejects(legacy.client.callTool({ name: 'echo', arguments: { message: 'm' } }), /429/);
    } finally {
      await legacy.close();
    }
  });
});

describe('at the defaults (100 per minute, burst 100)', () => {
  let server;
  before(async () => {
    server = await startServer({ tools });
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, server.log);
  });

  test('an official-SDK session doing 300 list and ping calls is never limited', async () => {
    const { client, close } = await connectStreamable(server);
    try {
      const calls = [
        () => client.listTools(),
        () => client.listResources(),
        () => client.listResourceTemplates(),
        () => client.listPrompts(),
        () => client.ping(),
      ];
      for (let i = 0; i < 300; i++) {
        const result = await calls[i % calls.length]();
        assert.ok(result, `call ${i}`);
      }
      // A few real calls in the same session, well within the burst.
      for (let i = 0; i < 10; i++) {
        const result = await client.callTool({ name: 'echo', arguments: { message: `n${i}` } });
        assert.equal(result.content[0].text, `echo: n${i}`);
      }
      assert.equal((await client.readResource({ uri: 'test://note' })).contents[0].text, 'a note');
      assert.ok((await client.getPrompt({ name: 'greet', arguments: { who: 'ada' } })).messages.length);
      const completion = await client.complete({
        ref: { type: 'ref/prompt', name: 'greet' },
        argument: { name: 'who', value: 'a' },
      });
      assert.deepEqual(completion.completion.values, ['ada', 'alan']);
    } finally {
      await close();
    }
    assert.doesNotMatch(server.log, /rate limited/);
  });

  test('the default burst is about 100 tool calls, then Retry-After: 1', async () => {
    // 13 units of work were spent above; the bucket refills at 100/60 per second.
    const session = await openSession(server);
    let allowed = 0;
    let refused;
    for (let i = 0; i < 150 && !refused; i++) {
      const answer = await rpc(server, toolCall(), session);
      if (answer.status === 429) refused = answer;
      else {
        assert.equal(answer.status, 200, answer.text);
        allowed++;
      }
    }
    assert.ok(refused, 'the burst ends');
    assert.ok(allowed >= 85 && allowed < 150, `allowed ${allowed} before the first 429`);
    assert.equal(refused.headers.get('retry-after'), '1');
    // Listing goes on.
    assert.equal((await rpc(server, request('tools/list'), session)).status, 200);
  });
});
