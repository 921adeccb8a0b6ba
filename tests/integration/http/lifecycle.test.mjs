// The server's life: calls cancelled when their client goes away (the exec child is killed),
// SIGTERM with calls in flight (answered, exit 0), calls past the grace period cancelled,
// streams closed at shutdown, and setups it refuses to start with.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  mcpHeaders,
  mcpdBinary,
  openSession,
  processGone,
  readEvents,
  startServer,
  tempDir,
  toolsDir,
  waitFor,
} from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function slowCall(server, session, { id, pidFile, seconds, signal }) {
  return fetch(server.url, {
    method: 'POST',
    headers: { ...mcpHeaders, 'Mcp-Session-Id': session },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'slow', arguments: { pid_file: pidFile, seconds } },
    }),
    signal,
  });
}

async function childPid(pidFile) {
  await waitFor(() => existsSync(pidFile), { what: 'the tool process to start' });
  return Number(readFileSync(pidFile, 'utf8').trim());
}

describe('calls and their clients', () => {
  let server;
  let dir;
  before(async () => {
    server = await startServer();
    dir = tempDir();
  });
  after(async () => {
    await server.stop();
  });

  test('a client that disconnects mid-call gets its call cancelled (the child is killed)', async () => {
    const session = await openSession(server);
    const pidFile = path.join(dir, 'abandoned.pid');
    const controller = new AbortController();
    const pending = slowCall(server, session, { id: 1, pidFile, seconds: 60, signal: controller.signal });
    pending.catch(() => {});
    const pid = await childPid(pidFile);
    assert.ok(!processGone(pid));
    controller.abort();
    await waitFor(() => processGone(pid), { what: 'the tool process to be killed' });
    // The session goes on.
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { ...mcpHeaders, 'Mcp-Session-Id': session },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    });
    assert.equal(response.status, 200);
  });

  test('notifications/cancelled cancels a call too', async () => {
    const session = await openSession(server);
    const pidFile = path.join(dir, 'cancelled.pid');
    const pending = slowCall(server, session, { id: 'c1', pidFile, seconds: 60 });
    const pid = await childPid(pidFile);
    const cancel = await fetch(server.url, {
      method: 'POST',
      headers: { ...mcpHeaders, 'Mcp-Session-Id': session },
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 'c1', reason: 'test' },
      }),
    });
    assert.equal(cancel.status, 202);
    await waitFor(() => processGone(pid), { what: 'the tool process to be killed' });
    const response = await pending;
    // A cancelled request gets no JSON-RPC answer: 202 without a body.
    assert.equal(response.status, 202);
  });
});

describe('shutdown', () => {
  test('SIGTERM: calls in flight are answered, streams end, exit 0', async () => {
    const server = await startServer();
    const dir = tempDir();
    const session = await openSession(server);
    const stream = await fetch(server.url, {
      headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session },
    });
    assert.equal(stream.status, 200);
    const streamEnded = readEvents(stream);
    const calls = [1, 2].map((id) =>
      slowCall(server, session, { id, pidFile: path.join(dir, `${id}.pid`), seconds: 2 }),
    );
    for (const id of [1, 2]) await childPid(path.join(dir, `${id}.pid`));

    server.proc.kill('SIGTERM');
    for (const call of calls) {
      const response = await call;
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.match(body.result.content[0].text, /slept 2 s/);
    }
    await streamEnded; // the standalone stream was closed
    const { code } = await server.wait();
    assert.equal(code, 0, server.log);
    assert.match(server.log, /SIGTERM received/);
  });

  test('SIGTERM under load: 100 calls answered, 50 silent sockets and 20 streams closed, no new accepts, exit 0', async () => {
    const server = await startServer({ args: ['--tools', path.join(here, 'tools_2026')] });
    try {
      await underLoad(server);
    } finally {
      if (server.proc.exitCode === null && server.proc.signalCode === null) server.proc.kill('SIGKILL');
    }
  });

  async function underLoad(server) {
    const dir = tempDir();
    const session = await openSession(server);

    // 20 open streams: legacy SSE, Streamable HTTP GET streams, 2026 subscriptions/listen.
    const streams = [];
    for (let i = 0; i < 7; ++i) {
      const sse = await fetch(`${server.origin}/sse`, { headers: { Accept: 'text/event-stream' } });
      assert.equal(sse.status, 200);
      streams.push(readEvents(sse, { ms: 60000 }));
    }
    for (let i = 0; i < 7; ++i) {
      const own = await openSession(server);
      const get = await fetch(server.url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': own } });
      assert.equal(get.status, 200);
      streams.push(readEvents(get, { ms: 60000 }));
    }
    for (let i = 0; i < 6; ++i) {
      const listen = await fetch(server.url, {
        method: 'POST',
        headers: { ...mcpHeaders, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'subscriptions/listen' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: `listen:${i}`,
          method: 'subscriptions/listen',
          params: {
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientCapabilities': {},
            },
            notifications: { resourceSubscriptions: ['test://info'] },
          },
        }),
      });
      assert.equal(listen.status, 200);
      streams.push(readEvents(listen, { ms: 60000 }));
    }

    // 50 silent sockets.
    const silent = await Promise.all(
      Array.from({ length: 50 }, () =>
        new Promise((resolve, reject) => {
          const socket = net.connect(server.port, '127.0.0.1');
          socket.on('error', () => {});
          socket.closedAt = new Promise((done) => socket.on('close', () => done(Date.now())));
          socket.once('connect', () => resolve(socket));
          socket.once('error', reject);
        }),
      ),
    );

    // 100 calls in flight: the workers run 16 at a time, the rest wait in the queue.
    const posts = () => server.log.match(/"POST \/mcp from /g)?.length ?? 0;
    // Lines below warning are written about a millisecond after they are logged: let the
    // lines of the requests above arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const postsBefore = posts();
    const calls = Array.from({ length: 100 }, (_, i) =>
      slowCall(server, session, { id: i + 1, pidFile: path.join(dir, `load-${i}.pid`), seconds: 1 }),
    );
    await waitFor(() => readdirSync(dir).filter((f) => f.endsWith('.pid')).length >= 16, {
      what: 'the first calls to start',
    });
    // All 100 requests read by the server (a slow build reads them later): a request still on
    // its way when the server stops meets a closing connection, as with any server.
    await waitFor(() => posts() >= postsBefore + 100, { what: 'the server to read all 100 calls' });

    const signalled = Date.now();
    server.proc.kill('SIGTERM');

    // No new connections: refused (or reset) promptly.
    const refusedAt = await waitFor(
      () =>
        new Promise((resolve) => {
          const probe = net.connect(server.port, '127.0.0.1');
          probe.setTimeout(2000, () => probe.destroy());
          probe.on('error', () => resolve(Date.now()));
          probe.on('connect', () => probe.on('close', () => resolve(false)));
        }),
      { ms: 10000, what: 'new connections to be refused' },
    );
    assert.ok(refusedAt - signalled < 5000, `refused ${refusedAt - signalled} ms after SIGTERM`);

    // The silent sockets are closed at once, not after the calls.
    const closedAt = await Promise.all(silent.map((socket) => socket.closedAt));
    assert.ok(Math.max(...closedAt) - signalled < 5000, 'silent sockets closed promptly');

    // Every call in flight is answered.
    const answers = await Promise.all(calls);
    for (const response of answers) {
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.match(body.result.content[0].text, /slept 1 s/);
    }
    // Every stream ended (a listen with its final result).
    const ended = await Promise.all(streams);
    const finals = ended.slice(14).map((events) => events.filter((e) => e.data).map((e) => JSON.parse(e.data)).at(-1));
    for (const [i, last] of finals.entries()) assert.equal(last.id, `listen:${i}`);
    const { code } = await server.wait();
    assert.equal(code, 0, server.log);
    assert.ok(Date.now() - signalled < 20000, 'exited within the shutdown deadline');
    assert.doesNotMatch(server.log, /cancelling \d+ call/);
  }

  test('calls still running after the grace period are cancelled; exit 0', async () => {
    const server = await startServer();
    const dir = tempDir();
    const session = await openSession(server);
    const pidFile = path.join(dir, 'long.pid');
    const call = slowCall(server, session, { id: 9, pidFile, seconds: 100 });
    call.catch(() => {});
    const pid = await childPid(pidFile);
    const started = Date.now();
    server.proc.kill('SIGTERM');
    const { code } = await server.wait();
    assert.equal(code, 0, server.log);
    const took = Date.now() - started;
    assert.ok(took >= 5000, `the call had its grace period (${took} ms)`);
    assert.ok(took < 60000, 'shut down well before the call would have ended');
    await waitFor(() => processGone(pid), { what: 'the tool process to be killed' });
    assert.match(server.log, /cancelling 1 call/);
  });

  test('a legacy SSE stream is closed at shutdown', async () => {
    const server = await startServer();
    const stream = await fetch(`${server.origin}/sse`, { headers: { Accept: 'text/event-stream' } });
    assert.equal(stream.status, 200);
    const events = readEvents(stream);
    server.proc.kill('SIGINT');
    const received = await events;
    assert.equal(received[0].event, 'endpoint');
    const { code } = await server.wait();
    assert.equal(code, 0, server.log);
  });
});

describe('refusing to start', () => {
  function run(args, env = {}) {
    return spawnSync(mcpdBinary(), ['serve', '--http', '--tools', toolsDir, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', ...env },
      encoding: 'utf8',
      timeout: 30000,
    });
  }

  test('no authentication on a non-loopback address', () => {
    const result = run(['--no-auth', '--listen', '0.0.0.0:0']);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /mcpd: error: refusing to serve without authentication/);
    const env = run(['--listen', '0.0.0.0:0'], { MCP_REQUIRE_AUTH: 'false' });
    assert.equal(env.status, 1, env.stderr);
  });

  test('a port that is already taken', async () => {
    const blocker = net.createServer();
    await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blocker.address();
      const result = run(['--no-auth', '--listen', `127.0.0.1:${port}`]);
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /mcpd: error: cannot listen on 127\.0\.0\.1:\d+/);
    } finally {
      blocker.close();
    }
  });
});
