// The legacy HTTP+SSE transport (protocol 2024-11-05) with the SDK's SSEClientTransport, on
// both paths (/sse and /mcp/sse), authenticated, plus the endpoint's refusals.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { Database, bearer, connectLegacy, readEvents, startServer, waitFor } from './helpers.mjs';

describe('legacy HTTP+SSE', () => {
  let db;
  let server;
  let token;
  before(async () => {
    ({ db, token } = Database.withToken());
    server = await startServer({ database: db });
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, server.log);
    db.remove();
  });

  for (const ssePath of ['/sse', '/mcp/sse']) {
    test(`the SDK client lists and calls tools over ${ssePath}`, async () => {
      const { client, close } = await connectLegacy(server, { token, path: ssePath });
      try {
        const { tools } = await client.listTools();
        assert.ok(tools.some((t) => t.name === 'echo'));
        const result = await client.callTool({ name: 'echo', arguments: { message: 'old' } });
        assert.equal(result.content[0].text, 'echo: old');
      } finally {
        await close();
      }
    });
  }

  test('blocking calls, progress and sampling work over the one stream', async () => {
    const { client, close } = await connectLegacy(server, {
      token,
      capabilities: { sampling: {} },
    });
    try {
      client.setRequestHandler(CreateMessageRequestSchema, async () => ({
        role: 'assistant',
        content: { type: 'text', text: 'legacy answer' },
        model: 'm',
      }));
      const progress = [];
      const result = await client.callTool({ name: 'progress', arguments: {} }, undefined, {
        onprogress: (p) => progress.push(p.progress),
      });
      assert.equal(result.content[0].text, 'progress done');
      assert.deepEqual(progress, [1, 2, 3]);
      const asked = await client.callTool({ name: 'ask', arguments: { question: 'q' } });
      assert.match(asked.content[0].text, /legacy answer/);
    } finally {
      await close();
    }
  });

  test('the stream opens with an endpoint event naming the message URL', async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.origin}/mcp/sse`, {
      headers: { Accept: 'text/event-stream', ...bearer(token) },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/event-stream/);
    const [endpoint] = await readEvents(response, { until: (e) => e.event === 'endpoint' });
    assert.equal(endpoint.event, 'endpoint');
    const url = new URL(endpoint.data, `${server.origin}/mcp/sse`);
    assert.equal(url.pathname, '/mcp/messages');
    assert.match(url.searchParams.get('session_id'), /^[0-9a-f]{64}$/);
    controller.abort();

    // The stream is gone: its session ends and its message URL answers 404.
    await waitFor(
      async () => {
        const r = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...bearer(token) },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
        });
        return r.status === 404;
      },
      { what: 'the closed legacy session to be forgotten' },
    );
  });

  test('messages need a known session of the same identity', async () => {
    const post = (target, headers = bearer(token)) =>
      fetch(`${server.origin}${target}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
    assert.equal((await post('/messages')).status, 400);
    assert.equal((await post(`/messages?session_id=${'a'.repeat(64)}`)).status, 404);
    assert.equal((await post('/messages?session_id=x', {})).status, 401);

    const controller = new AbortController();
    const response = await fetch(`${server.origin}/sse`, {
      headers: { Accept: 'text/event-stream', ...bearer(token) },
      signal: controller.signal,
    });
    const [endpoint] = await readEvents(response, {
      until: (e) => e.event === 'endpoint',
      keepOpen: true,
    });
    const target = new URL(endpoint.data, `${server.origin}/sse`);
    assert.equal(target.pathname, '/messages');
    db.addUser('mallory@example.com');
    const other = db.createToken({ user: 'mallory@example.com', name: 'm' }).token;
    assert.equal((await post(target.pathname + target.search, bearer(other))).status, 404);
    assert.equal((await post(target.pathname + target.search)).status, 202);
    // A legacy session is no Streamable HTTP session.
    const streamable = await fetch(`${server.origin}/mcp`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'Mcp-Session-Id': target.searchParams.get('session_id'),
        ...bearer(token),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(streamable.status, 404);
    controller.abort();
  });
});
