// The shipped nginx site (packaging/nginx/mcpd.conf) in front of a real `mcpd serve --http`:
// a real nginx (NGINX, unprivileged ports, a temporary prefix) runs the example file with only
// its two addresses rewritten, and the official MCP TypeScript SDK talks to mcpd through it
// over Streamable HTTP and legacy HTTP+SSE. A tool that pauses between progress notifications
// shows that nginx does not buffer the event stream. Tokens come from the real CLI.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { Database, connectLegacy, connectStreamable, startServer } from '../http/helpers.mjs';
import { Nginx } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const sourceDir = path.resolve(here, '../../..');
const siteFile = path.join(sourceDir, 'packaging/nginx/mcpd.conf');
const exampleTools = path.join(sourceDir, 'examples/tools');

// What the SDK helpers need of a server: where /mcp and the legacy endpoint are.
function behind(proxy) {
  return { origin: proxy.origin, url: `${proxy.origin}/mcp` };
}

// Calls the example `countdown` tool (one progress notification per second), recording when
// each notification and the result arrive.
async function timedCountdown(client) {
  const started = Date.now();
  const progress = [];
  const result = await client.callTool(
    { name: 'countdown', arguments: { from: 3, delay_seconds: 1 } },
    undefined,
    { onprogress: (p) => progress.push({ value: p.progress, at: Date.now() - started }), timeout: 120000 },
  );
  return { result, progress, finished: Date.now() - started };
}

function assertStreamed({ result, progress, finished }) {
  assert.deepEqual(result.content, [{ type: 'text', text: 'Liftoff after 3 steps!' }]);
  assert.deepEqual(
    progress.map((p) => p.value),
    [1, 2, 3],
  );
  // The tool sleeps a second after each notification: unbuffered, the first one arrives at
  // least two seconds before the result; buffered, they all arrive together with it.
  assert.ok(
    finished - progress[0].at >= 1500,
    `progress was held back: ${JSON.stringify(progress)}, result at ${finished} ms`,
  );
}

describe('mcpd behind nginx (packaging/nginx/mcpd.conf)', () => {
  let db;
  let server;
  let proxy;
  let token;
  before(async () => {
    db = new Database();
    db.addUser('ada@example.com');
    token = db.createToken({ name: 'nginx' }).token;
    server = await startServer({ database: db, tools: exampleTools });
    proxy = await new Nginx({
      siteFile,
      lines: [['    server 127.0.0.1:8001;\n', `    server 127.0.0.1:${server.port};\n`]],
    }).start();
  });
  after(async () => {
    if (proxy) await proxy.stop();
    if (server) {
      const { code } = await server.stop();
      assert.equal(code, 0, server.log);
    }
    db.remove();
  });

  test('health and correlation ids pass through', async () => {
    const health = await fetch(`${proxy.origin}/mcp/health`, { headers: { 'X-Correlation-ID': 'nginx-test-1' } });
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal(health.headers.get('x-correlation-id'), 'nginx-test-1');
    // Without one, nginx's request id is used: 32 hex digits.
    const generated = await fetch(`${proxy.origin}/mcp/health`);
    assert.match(generated.headers.get('x-correlation-id') ?? '', /^[0-9a-f]{32}$/);
  });

  test('no token: 401 with WWW-Authenticate from mcpd', async () => {
    const response = await fetch(`${proxy.origin}/mcp`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
  });

  test('Streamable HTTP session: tools and a streamed call with progress', async () => {
    const { client, transport, close } = await connectStreamable(behind(proxy), { token });
    try {
      assert.ok(transport.sessionId, 'Mcp-Session-Id reaches the client');
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'countdown'));
      assertStreamed(await timedCountdown(client));
      const hello = await client.callTool({ name: 'hello', arguments: { name: 'nginx' } });
      assert.equal(hello.isError ?? false, false);
    } finally {
      await close();
    }
  });

  test('legacy HTTP+SSE session on /mcp/sse: a streamed call with progress', async () => {
    const { client, close } = await connectLegacy(behind(proxy), { token, path: '/mcp/sse' });
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'countdown'));
      assertStreamed(await timedCountdown(client));
    } finally {
      await close();
    }
  });

  test('the session ends cleanly: DELETE through nginx', async () => {
    const { transport, close } = await connectStreamable(behind(proxy), { token });
    const session = transport.sessionId;
    await transport.terminateSession();
    await close();
    const response = await fetch(`${proxy.origin}/mcp`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        Authorization: `Bearer ${token}`,
        'Mcp-Session-Id': session,
        'MCP-Protocol-Version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    });
    assert.equal(response.status, 404);
  });
});
