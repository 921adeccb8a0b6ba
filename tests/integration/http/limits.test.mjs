// What surrounds every request: Origin and Host checks, CORS, routing, health and metrics,
// and the limits that keep hostile or broken clients from hurting the server (oversized
// headers and bodies, deep JSON, slow clients, malformed HTTP).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  initializeRequest,
  mcpHeaders,
  openSession,
  post,
  rawRequest,
  startServer,
} from './helpers.mjs';

describe('around every request', () => {
  let server;
  before(async () => {
    server = await startServer({ args: ['--allow-origin', 'https://app.example.com'] });
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, server.log);
  });

  test('a foreign Origin is refused with 403', async () => {
    const response = await post(server, initializeRequest(), {
      headers: { Origin: 'https://evil.example.com' },
    });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    const body = await response.json();
    assert.equal(body.id, null);
    assert.ok(body.error.message);
  });

  test('an allowed Origin gets CORS headers; the server itself is same-origin', async () => {
    const response = await post(server, initializeRequest(), {
      headers: { Origin: 'https://app.example.com' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(response.headers.get('access-control-expose-headers'), /Mcp-Session-Id/);
    const same = await post(server, initializeRequest(), {
      headers: { Origin: server.origin },
    });
    assert.equal(same.status, 200);
  });

  test('CORS preflight lists the MCP headers', async () => {
    const response = await fetch(server.url, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example.com',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, mcp-session-id',
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(response.headers.get('access-control-allow-methods'), /POST/);
    const allowed = response.headers.get('access-control-allow-headers');
    for (const header of ['Authorization', 'Content-Type', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Last-Event-ID'])
      assert.ok(allowed.includes(header), header);
    const foreign = await fetch(server.url, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(foreign.status, 403);
  });

  test('a rebound Host name is refused on a loopback listener (DNS rebinding)', async () => {
    const request =
      'POST /mcp HTTP/1.1\r\nHost: evil.example.com:' + server.port + '\r\n' +
      'Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n' +
      'Content-Length: 2\r\nConnection: close\r\n\r\n{}';
    const { received } = await rawRequest(server.port, request);
    assert.match(received, /^HTTP\/1\.1 403 /);
    const ok = await rawRequest(
      server.port,
      `GET /live HTTP/1.1\r\nHost: localhost:${server.port}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(ok.received, /^HTTP\/1\.1 200 /);
  });

  test('unknown paths get a JSON 404, wrong methods 405 with Allow', async () => {
    const missing = await fetch(`${server.origin}/nope`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error, 'not_found');
    const wrong = await fetch(`${server.origin}/health`, { method: 'POST' });
    assert.equal(wrong.status, 405);
    assert.match(wrong.headers.get('allow'), /GET/);
    const put = await fetch(server.url, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, POST, DELETE, OPTIONS');
  });

  test('health, liveness and readiness, with or without a trailing slash', async () => {
    assert.deepEqual(await (await fetch(`${server.origin}/mcp/health`)).json(), { status: 'ok' });
    for (const path of ['/live', '/live/', '/ready', '/ready/', '/health', '/health/']) {
      const response = await fetch(server.origin + path);
      assert.equal(response.status, 200, path);
      const body = await response.json();
      assert.ok(['alive', 'ready', 'healthy'].includes(body.status), `${path}: ${body.status}`);
      assert.ok(response.headers.get('x-correlation-id'));
    }
    const head = await fetch(`${server.origin}/live`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  test('metrics: Prometheus text, or JSON on request', async () => {
    const text = await fetch(`${server.origin}/metrics`);
    assert.match(text.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const body = await text.text();
    for (const name of ['mcp_requests_total', 'mcp_errors_total', 'mcp_active_sessions',
      'mcp_rate_limit_clients', 'mcp_tool_invocations_total', 'mcp_auth_failures_total'])
      assert.match(body, new RegExp(`^# TYPE ${name} `, 'm'), name);
    const json = await fetch(`${server.origin}/metrics`, { headers: { Accept: 'application/json' } });
    assert.match(json.headers.get('content-type'), /^application\/json/);
    assert.ok((await json.json()).mcp_requests_total > 0);
  });

  test('tool calls are counted', async () => {
    const session = await openSession(server);
    await post(
      server,
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'm' } } },
      { headers: { 'Mcp-Session-Id': session } },
    );
    const body = await (await fetch(`${server.origin}/metrics`)).text();
    assert.match(body, /mcp_tool_invocations_total\{tool="echo",status="success"\} [1-9]/);
    assert.match(body, /mcp_active_sessions [1-9]/);
  });
});

describe('limits', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, server.log);
  });

  test('an oversized body gets 413 and the server keeps serving', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(5 * 1024 * 1024) } });
    const response = await fetch(server.url, { method: 'POST', headers: mcpHeaders, body: big }).catch(
      (e) => e,
    );
    if (response instanceof Error) {
      // The client may still be sending when the answer and the close arrive.
      assert.match(String(response.cause?.code ?? response.message), /ECONNRESET|EPIPE|other side closed|fetch failed/);
    } else {
      assert.equal(response.status, 413);
    }
    const raw = await rawRequest(
      server.port,
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${8 * 1024 * 1024}\r\n\r\n`,
    );
    assert.match(raw.received, /^HTTP\/1\.1 413 /);
    assert.equal((await fetch(`${server.origin}/live`)).status, 200);
  });

  test('deeply nested JSON is refused', async () => {
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    const response = await post(server, deep);
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error.code, -32600);
  });

  test('oversized headers get 431', async () => {
    const { received } = await rawRequest(
      server.port,
      `GET /live HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
    );
    assert.match(received, /^HTTP\/1\.1 431 /);
  });

  test('malformed HTTP gets 400 and a close', async () => {
    const { received, closed } = await rawRequest(server.port, 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(received, /^HTTP\/1\.1 400 /);
    assert.ok(closed);
  });

  test('HTTP/1.1 without Host is refused', async () => {
    const { received } = await rawRequest(server.port, 'GET /live HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.match(received, /^HTTP\/1\.1 400 /);
  });

  test('keep-alive serves several requests on one connection, pipelined too', async () => {
    const one = `GET /mcp/health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`;
    const last = `GET /mcp/health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`;
    const { received } = await rawRequest(server.port, one + one + last);
    assert.equal(received.match(/HTTP\/1\.1 200 OK/g)?.length, 3);
  });

  test('pipelined tool calls answered by a worker (exec) are all answered, in order', async () => {
    // Each request's answer comes from another thread while the next request already sits in
    // the connection's buffer (no read pending): the connection must stay alive for it.
    const dir = mkdtempSync(path.join(tmpdir(), 'mcpd-pipelined-'));
    const call = (id, last) => {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: {
          name: 'slow',
          arguments: { pid_file: path.join(dir, `pid${id}`), seconds: 0 },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      });
      return (
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\n` +
        'Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\n' +
        `Mcp-Method: tools/call\r\nMcp-Name: slow\r\n${last ? 'Connection: close\r\n' : ''}` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
      );
    };
    let received;
    try {
      ({ received } = await rawRequest(server.port, call(1) + call(2) + call(3, true), { ms: 20000 }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(received.match(/HTTP\/1\.1 200 OK/g)?.length, 3, received);
    const ids = [...received.matchAll(/"id":(\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(ids, [1, 2, 3]);
    assert.equal(received.match(/slept 0 s/g)?.length, 3);
  });

  test('a client too slow to send its headers is cut off', async () => {
    const started = Date.now();
    const { received, closed } = await rawRequest(server.port, 'GET /live HTTP/1.1\r\nHost: 127', {
      ms: 40000,
    });
    assert.ok(closed, 'the server closed the connection');
    assert.equal(received, '');
    assert.ok(Date.now() - started >= 5000, 'not before the header timeout');
  });
});
