// --io-threads: each I/O thread runs an event loop of its own and accepted connections are
// handed to them in turn. With 1 and with 3 threads: the threads exist, concurrent keep-alive
// connections (so on every loop) each get their own answers, a legacy SSE stream on one loop
// carries the replies to messages posted on the others; SIGTERM with calls in flight on every
// loop drains them all and exits 0; a bad value stops startup.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  Database,
  connectLegacy,
  mcpHeaders,
  mcpdBinary,
  openSession,
  readEvents,
  startServer,
  tempDir,
  toolsDir,
  waitFor,
} from './helpers.mjs';

// One POST on `agent` (keep-alive, a bounded number of sockets); resolves with the status, the
// parsed body and the local port of the socket it went over.
function postOn(agent, server, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: '127.0.0.1',
        port: server.port,
        path: '/mcp',
        method: 'POST',
        headers: { ...mcpHeaders, ...headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode, body: JSON.parse(text), socket: request.socket.localPort }),
        );
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

const echoCall = (id, message) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { message } },
});

for (const threads of [1, 3]) {
  describe(`--io-threads ${threads}`, () => {
    let db;
    let server;
    let token;
    before(async () => {
      ({ db, token } = Database.withToken());
      server = await startServer({
        database: db,
        args: ['--io-threads', String(threads)],
        env: { RATE_LIMIT_REQUESTS: '100000', RATE_LIMIT_WINDOW: '1' },
      });
    });
    after(async () => {
      const { code } = await server.stop();
      assert.equal(code, 0, server.log);
      db.remove();
    });

    test('the I/O threads are started, and their number logged', async () => {
      assert.match(server.log, new RegExp(`listening on http://127\\.0\\.0\\.1:\\d+ .* on ${threads} I/O thread\\(s\\)`));
      // The main thread runs one loop; each other loop has a thread named "mcpd-io", started
      // right after the port file is written.
      const task = `/proc/${server.proc.pid}/task`;
      const named = () =>
        readdirSync(task).filter((id) => readFileSync(`${task}/${id}/comm`, 'utf8').trim() === 'mcpd-io').length;
      await waitFor(() => named() >= threads - 1, { ms: 10000, what: `${threads - 1} mcpd-io thread(s)` });
      assert.equal(named(), threads - 1);
    });

    test('6 keep-alive connections x 25 concurrent calls: every answer is its own', async () => {
      const sessions = [];
      for (let i = 0; i < 2; ++i) sessions.push(await openSession(server, { token }));
      const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
      try {
        const calls = Array.from({ length: 150 }, (_, i) => {
          const message = `m-${i}-${'x'.repeat(i % 40)}`;
          // 2025-11-25 calls in two sessions, alternating.
          const headers = {
            Authorization: `Bearer ${token}`,
            'Mcp-Session-Id': sessions[i % 2],
            'MCP-Protocol-Version': '2025-11-25',
          };
          return postOn(agent, server, echoCall(i, message), headers).then((reply) => ({ reply, i, message }));
        });
        const sockets = new Set();
        for (const { reply, i, message } of await Promise.all(calls)) {
          assert.equal(reply.status, 200, JSON.stringify(reply.body));
          assert.equal(reply.body.id, i);
          assert.equal(reply.body.result.content[0].text, `echo: ${message}`);
          sockets.add(reply.socket);
        }
        // The calls shared a few kept-alive connections (more than one, so several loops served).
        assert.ok(sockets.size >= 2 && sockets.size <= 6, `${sockets.size} connections`);
      } finally {
        agent.destroy();
      }
    });

    test('legacy SSE: replies cross from the posting connection to the stream', async () => {
      // Each client holds its stream on one connection and posts on others; with 3 threads
      // consecutive connections are on different loops.
      const clients = [];
      for (let i = 0; i < 4; ++i) clients.push(await connectLegacy(server, { token }));
      try {
        const results = await Promise.all(
          clients.flatMap(({ client }, c) =>
            Array.from({ length: 10 }, (_, n) =>
              client
                .callTool({ name: 'echo', arguments: { message: `c${c}-n${n}` } })
                .then((result) => ({ result, expected: `echo: c${c}-n${n}` })),
            ),
          ),
        );
        for (const { result, expected } of results) assert.equal(result.content[0].text, expected);
      } finally {
        for (const { close } of clients) await close();
      }
    });
  });
}

describe('SIGTERM with --io-threads 3', () => {
  test('calls in flight on every loop are answered, streams end, exit 0', async () => {
    const server = await startServer({ args: ['--io-threads', '3'] });
    const dir = tempDir();
    try {
      const session = await openSession(server);
      // Two standalone GET streams and six slow calls, each on its own connection: spread over
      // the three loops.
      const streams = [];
      for (let i = 0; i < 2; ++i) {
        const own = await openSession(server);
        const get = await fetch(server.url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': own } });
        assert.equal(get.status, 200);
        streams.push(readEvents(get));
      }
      const agents = [];
      const calls = Array.from({ length: 6 }, (_, i) => {
        const agent = new http.Agent({ keepAlive: false });
        agents.push(agent);
        return postOn(
          agent,
          server,
          {
            jsonrpc: '2.0',
            id: i,
            method: 'tools/call',
            params: { name: 'slow', arguments: { pid_file: path.join(dir, `${i}.pid`), seconds: 2 } },
          },
          { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' },
        );
      });
      await waitFor(() => [0, 1, 2, 3, 4, 5].every((i) => existsSync(path.join(dir, `${i}.pid`)) &&
        readFileSync(path.join(dir, `${i}.pid`), 'utf8').trim() !== ''), { what: 'the six calls to start' });

      server.proc.kill('SIGTERM');
      for (const [i, reply] of (await Promise.all(calls)).entries()) {
        assert.equal(reply.status, 200);
        assert.equal(reply.body.id, i);
        assert.match(reply.body.result.content[0].text, /slept 2 s/);
      }
      await Promise.all(streams); // both standalone streams were closed
      const { code } = await server.wait();
      assert.equal(code, 0, server.log);
      assert.match(server.log, /SIGTERM received/);
      assert.match(server.log, /HTTP server stopped/);
      for (const agent of agents) agent.destroy();
    } finally {
      if (server.proc.exitCode === null && server.proc.signalCode === null) server.proc.kill('SIGKILL');
    }
  });
});

test('a bad --io-threads or MCPD_IO_THREADS stops startup, naming the setting', () => {
  const run = (args, env = {}) =>
    spawnSync(mcpdBinary(), ['serve', '--http', '--no-auth', '--tools', toolsDir, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', ...env },
      encoding: 'utf8',
      timeout: 30000,
    });
  for (const value of ['-1', 'many', '1025']) {
    const flag = run(['--io-threads', value]);
    assert.notEqual(flag.status, 0, flag.stderr);
    assert.match(flag.stderr, /mcpd: error: --io-threads: /);
  }
  const env = run([], { MCPD_IO_THREADS: 'many' });
  assert.equal(env.status, 1, env.stderr);
  assert.match(env.stderr, /mcpd: error: MCPD_IO_THREADS: expected an integer from 0 to 1024, got 'many'/);
});
