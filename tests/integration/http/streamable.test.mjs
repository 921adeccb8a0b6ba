// Streamable HTTP (MCP 2025-11-25) against the real binary: the official SDK client end to
// end, and raw requests for the transport's rules (sessions, Accept, versions, streams).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import {
  connectStreamable,
  initializeRequest,
  mcpHeaders,
  openSession,
  post,
  readEvents,
  startServer,
  waitFor,
} from './helpers.mjs';

describe('Streamable HTTP with the SDK client', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, server.log);
  });

  test('initialize, list and call tools', async () => {
    const { client, transport, close } = await connectStreamable(server);
    try {
      assert.match(transport.sessionId, /^[0-9a-f]{64}$/);
      const { tools } = await client.listTools();
      assert.deepEqual(
        tools.map((t) => t.name).sort(),
        ['ask', 'echo', 'progress', 'secret', 'slow'],
      );
      const result = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'echo: hi' }]);
      assert.deepEqual(await client.ping(), {});
    } finally {
      await close();
    }
  });

  test('progress and log messages arrive before the result (SSE)', async () => {
    const { client, close } = await connectStreamable(server);
    try {
      await client.setLoggingLevel('debug');
      const logs = [];
      client.fallbackNotificationHandler = async (n) => {
        if (n.method === 'notifications/message') logs.push(n.params);
      };
      const progress = [];
      const result = await client.callTool({ name: 'progress', arguments: {} }, undefined, {
        onprogress: (p) => progress.push(p.progress),
      });
      assert.deepEqual(result.content, [{ type: 'text', text: 'progress done' }]);
      assert.deepEqual(progress, [1, 2, 3]);
      assert.equal(logs.length, 1);
      assert.equal(logs[0].data, 'almost done');
    } finally {
      await close();
    }
  });

  test('a tool asks the client for sampling through the call stream', async () => {
    const { client, close } = await connectStreamable(server, { capabilities: { sampling: {} } });
    try {
      let asked;
      client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
        asked = request.params.messages[0].content.text;
        return { role: 'assistant', content: { type: 'text', text: 'forty-two' }, model: 'test' };
      });
      const result = await client.callTool({ name: 'ask', arguments: { question: 'the answer?' } });
      assert.equal(asked, 'the answer?');
      assert.match(result.content[0].text, /forty-two/);
    } finally {
      await close();
    }
  });

  test('DELETE ends the session; it is then unknown (404)', async () => {
    const { client, transport, close } = await connectStreamable(server);
    const session = transport.sessionId;
    await transport.terminateSession();
    await close();
    const response = await post(
      server,
      { jsonrpc: '2.0', id: 5, method: 'ping' },
      { headers: { 'Mcp-Session-Id': session } },
    );
    assert.equal(response.status, 404);
    const body = await response.json();
    assert.equal(body.error.code, -32001);
    assert.equal(body.id, null);
    void client;
  });
});

describe('Streamable HTTP rules', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  test('initialize answers JSON with a fresh Mcp-Session-Id and X-Correlation-ID', async () => {
    const response = await post(server, initializeRequest(), {
      headers: { 'X-Correlation-ID': 'test-correlation-1' },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^application\/json/);
    assert.match(response.headers.get('mcp-session-id'), /^[\x21-\x7e]{32,}$/);
    assert.equal(response.headers.get('x-correlation-id'), 'test-correlation-1');
    const body = await response.json();
    assert.equal(body.result.protocolVersion, '2025-11-25');
  });

  test('an invalid correlation id is replaced by a generated one', async () => {
    const response = await post(server, initializeRequest(), {
      headers: { 'X-Correlation-ID': 'x'.repeat(200) },
    });
    assert.match(response.headers.get('x-correlation-id'), /^[0-9a-f]{32}$/);
  });

  test('requests without a session id are refused with 400', async () => {
    const response = await post(server, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error.message, /Mcp-Session-Id/);
  });

  test('unknown sessions get 404', async () => {
    const response = await post(
      server,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { headers: { 'Mcp-Session-Id': 'f'.repeat(64) } },
    );
    assert.equal(response.status, 404);
  });

  test('a second initialize on a session is refused', async () => {
    const session = await openSession(server);
    const response = await post(server, initializeRequest(), {
      headers: { 'Mcp-Session-Id': session },
    });
    assert.equal(response.status, 400);
  });

  test('notifications get 202 without a body', async () => {
    const session = await openSession(server);
    const response = await post(
      server,
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 99 } },
      { headers: { 'Mcp-Session-Id': session } },
    );
    assert.equal(response.status, 202);
    assert.equal(await response.text(), '');
  });

  test('Accept must list both JSON and SSE (406)', async () => {
    const response = await post(server, initializeRequest(), {
      headers: { Accept: 'application/json' },
    });
    assert.equal(response.status, 406);
  });

  test('Content-Type must be JSON (415)', async () => {
    const response = await post(server, JSON.stringify(initializeRequest()), {
      headers: { 'Content-Type': 'text/plain' },
    });
    assert.equal(response.status, 415);
  });

  test('unparsable bodies get a JSON-RPC parse error (400)', async () => {
    const response = await post(server, '{"jsonrpc": ');
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error.code, -32700);
  });

  test('unsupported MCP-Protocol-Version is refused (400); supported ones pass', async () => {
    const session = await openSession(server);
    let response = await post(
      server,
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { headers: { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '1999-01-01' } },
    );
    assert.equal(response.status, 400);
    response = await post(
      server,
      { jsonrpc: '2.0', id: 2, method: 'ping' },
      { headers: { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-06-18' } },
    );
    assert.equal(response.status, 200);
    assert.deepEqual((await response.json()).result, {});
  });

  test('batches work for 2025-03-26 sessions and are refused for newer ones', async () => {
    const old = await openSession(server, { version: '2025-03-26' });
    let response = await post(
      server,
      [
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      ],
      { headers: { 'Mcp-Session-Id': old, 'MCP-Protocol-Version': '2025-03-26' } },
    );
    assert.equal(response.status, 200);
    const replies = await response.json();
    assert.deepEqual(replies.map((r) => r.id).sort(), [1, 2]);

    const current = await openSession(server);
    response = await post(server, [{ jsonrpc: '2.0', id: 1, method: 'ping' }], {
      headers: { 'Mcp-Session-Id': current },
    });
    assert.equal(response.status, 400);
  });

  test('the standalone GET stream: one per session (409 for a second)', async () => {
    const session = await openSession(server);
    const controller = new AbortController();
    const first = await fetch(server.url, {
      headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session },
      signal: controller.signal,
    });
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-type'), /^text\/event-stream/);
    const second = await fetch(server.url, {
      headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session },
    });
    assert.equal(second.status, 409);
    controller.abort();
    const wrongAccept = await fetch(server.url, {
      headers: { Accept: 'application/json', 'Mcp-Session-Id': session },
    });
    assert.equal(wrongAccept.status, 406);
  });

  test('a call that streams: priming event, progress, result, end of stream', async () => {
    const session = await openSession(server);
    const response = await post(
      server,
      {
        jsonrpc: '2.0',
        id: 'p1',
        method: 'tools/call',
        params: { name: 'progress', arguments: {}, _meta: { progressToken: 'tok' } },
      },
      { headers: { 'Mcp-Session-Id': session } },
    );
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/event-stream/);
    const events = await readEvents(response);
    const priming = events[0];
    assert.ok(priming.id, 'the priming event has an id');
    assert.equal(priming.data, '');
    assert.ok(priming.retry > 0);
    const messages = events.filter((e) => e.data).map((e) => JSON.parse(e.data));
    const progress = messages.filter((m) => m.method === 'notifications/progress');
    assert.deepEqual(
      progress.map((m) => m.params.progress),
      [1, 2, 3],
    );
    assert.ok(progress.every((m) => m.params.progressToken === 'tok'));
    const last = messages.at(-1);
    assert.equal(last.id, 'p1');
    assert.equal(last.result.content[0].text, 'progress done');
    const ids = events.filter((e) => e.id).map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'event ids are unique');
  });

  test('an interrupted stream resumes with GET and Last-Event-ID', async () => {
    const session = await openSession(server, { capabilities: { sampling: {} } });
    const controller = new AbortController();
    // `ask` blocks until the client answers its sampling request: read up to that request,
    // then drop the connection.
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { ...mcpHeaders, 'Mcp-Session-Id': session },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'ask', arguments: { question: 'resume?' } },
      }),
      signal: controller.signal,
    });
    const before = await readEvents(response, {
      until: (e) => e.data && JSON.parse(e.data).method === 'sampling/createMessage',
    });
    const request = JSON.parse(before.at(-1).data);
    const lastId = before.at(-1).id;
    controller.abort();

    // Resume first, then answer the sampling request: the result arrives on the resumed stream.
    // (Answered before the server has noticed the dropped connection, the result could go out
    // on that connection, which the client has closed, and the stream would be complete.)
    // The server learns of the dropped connection from its own socket, on its own I/O thread:
    // until then the stream is still attached and a resume gets 409, as a client would retry.
    let resumed;
    await waitFor(async () => {
      resumed = await fetch(server.url, {
        headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session, 'Last-Event-ID': lastId },
      });
      if (resumed.status !== 409) return true;
      await resumed.body?.cancel();
      return false;
    }, { ms: 10000, what: 'the interrupted stream to be resumable' });
    assert.equal(resumed.status, 200);
    const answer = await post(
      server,
      {
        jsonrpc: '2.0',
        id: request.id,
        result: { role: 'assistant', content: { type: 'text', text: 'resumed!' }, model: 'm' },
      },
      { headers: { 'Mcp-Session-Id': session } },
    );
    assert.equal(answer.status, 202);
    const after = await readEvents(resumed);
    const result = after.filter((e) => e.data).map((e) => JSON.parse(e.data)).at(-1);
    assert.equal(result.id, 7);
    assert.match(result.result.content[0].text, /resumed!/);
    assert.ok(!after.some((e) => e.id === lastId), 'events up to Last-Event-ID are not replayed');
  });

  test('unknown Last-Event-ID streams cannot be resumed', async () => {
    const session = await openSession(server);
    const response = await fetch(server.url, {
      headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session, 'Last-Event-ID': '99-1' },
    });
    assert.equal(response.status, 400);
  });
});

describe('stateless mode', () => {
  let server;
  before(async () => {
    server = await startServer({ args: ['--stateless'] });
  });
  after(async () => {
    await server.stop();
  });

  test('no session ids; every request stands alone', async () => {
    const init = await post(server, initializeRequest());
    assert.equal(init.status, 200);
    assert.equal(init.headers.get('mcp-session-id'), null);
    const response = await post(server, {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'alone' } },
    });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).result.content[0].text, 'echo: alone');
  });

  test('GET and DELETE are not offered (405)', async () => {
    const get = await fetch(server.url, { headers: { Accept: 'text/event-stream' } });
    assert.equal(get.status, 405);
    assert.match(get.headers.get('allow'), /POST/);
    const del = await fetch(server.url, { method: 'DELETE' });
    assert.equal(del.status, 405);
  });

  test('the SDK client works against it', async () => {
    const { client, close } = await connectStreamable(server);
    try {
      const result = await client.callTool({ name: 'echo', arguments: { message: 'sdk' } });
      assert.equal(result.content[0].text, 'echo: sdk');
    } finally {
      await close();
    }
  });
});
