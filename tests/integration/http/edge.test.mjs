// Abuse at the HTTP edge, against the real binary: the connection cap (503 "too many
// connections" past it, probes still answered, never stuck), slow clients (1,000 slowloris
// sockets, trickled bodies, clients that never read) cut off by their deadlines while a real
// client is served, and a flood of distinct bad tokens stopped by the failed-auth limiter in
// bounded memory while a valid token from another address still works.
//
// EDGE_BAD_TOKENS sets how many bad tokens the flood sends (default 20,000; the report's
// 1,000,000 run is `EDGE_BAD_TOKENS=1000000 ctest -R integration_http_edge`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  connectStreamable,
  Database,
  mcpHeaders,
  openSession,
  startServer,
  tempDir,
  waitFor,
} from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = path.join(here, 'tools');

// --- the server process, seen from /proc ---

function openFds(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function rssKiB(pid) {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(match[1]);
}

function softFdLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line.split(/\s+/)[3]);
}

// --- raw HTTP ---

// One request on its own connection (no keep-alive pool, so the server's connection count is
// the test's to decide). Resolves {status, headers, body}.
function request(server, target, { method = 'GET', headers = {}, body, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: target,
        method,
        agent: false,
        localAddress,
        headers: { Connection: 'close', ...headers },
        timeout: 30000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${target}: no answer in 30 s`)));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function metrics(server) {
  const { status, body } = await request(server, '/metrics', { headers: { Accept: 'application/json' } });
  assert.equal(status, 200, body);
  return JSON.parse(body);
}

// A raw socket that records what it receives and when the server closes it.
function rawSocket(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.received = '';
    socket.closedByServer = false;
    socket.on('data', (chunk) => (socket.received += chunk.toString('latin1')));
    socket.on('end', () => (socket.closedByServer = true));
    socket.on('close', () => (socket.closedByServer = true));
    socket.on('error', () => {});
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function openSockets(port, count) {
  const sockets = [];
  // In batches, so the listen backlog never overflows.
  for (let i = 0; i < count; i += 100)
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => rawSocket(port)))));
  return sockets;
}

// slow_reader.py: clients with a tiny receive buffer that never read. `sent` resolves once the
// requests are out; after release() (or `maxHold` seconds) they drain their connections and
// `done` resolves with [{bytes, ended}].
function runSlowReaders(server, session, clients, maxHold) {
  const child = spawn('python3', [path.join(here, 'slow_reader.py'), String(server.port), session, String(clients), String(maxHold)]);
  let output = '';
  let errors = '';
  let markSent;
  const sent = new Promise((resolve) => (markSent = resolve));
  child.stdout.on('data', (chunk) => {
    output += chunk;
    if (output.includes('sent\n')) markSent();
  });
  child.stderr.on('data', (chunk) => (errors += chunk));
  const done = new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      markSent();
      if (code !== 0) return reject(new Error(`slow_reader.py failed (${code}): ${errors}`));
      resolve(JSON.parse(output.split('\n').filter(Boolean).at(-1)));
    });
  });
  // Once only; a child that already left (its own max hold) has no stdin to write to.
  child.stdin.on('error', () => {});
  let released = false;
  const release = () => {
    if (!released) child.stdin.end('drain\n');
    released = true;
  };
  return { sent, done, release };
}

function writeConfig(dir, config) {
  const file = path.join(dir, 'mcpd.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

describe('the connection cap', () => {
  const cap = 20;
  let server;
  let sockets = [];
  before(async () => {
    server = await startServer({ args: ['--max-connections', String(cap)] });
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    const { code } = await server.stop();
    assert.equal(code, 0, server.log);
  });

  test('past the cap: 503 "too many connections" with Retry-After, probes still answer, and room comes back', async () => {
    assert.match(server.log, new RegExp(`serving at most ${cap} HTTP connections`));
    sockets = await openSockets(server.port, cap);
    await waitFor(async () => (await metrics(server)).mcp_http_connections >= cap + 1, {
      what: 'the server to count the silent connections',
    });

    // A probe past the cap is served; a request for work is refused, clearly.
    const live = await request(server, '/live');
    assert.equal(live.status, 200);
    const refused = await request(server, '/mcp', {
      method: 'POST',
      headers: mcpHeaders,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(refused.status, 503);
    assert.equal(JSON.parse(refused.body).error, 'too_many_connections');
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers.connection, 'close');

    // Past the probes' headroom too: answered at once without being read, then closed.
    const more = await openSockets(server.port, 60);
    sockets.push(...more);
    await waitFor(() => more.filter((s) => s.received.startsWith('HTTP/1.1 503 ')).length > 0, {
      what: 'a canned 503 for the connections past the headroom',
    });
    const canned = more.find((s) => s.received.startsWith('HTTP/1.1 503 '));
    assert.match(canned.received, /"error":"too_many_connections"/);
    assert.match(canned.received, /Retry-After: 1/i);
    await waitFor(() => canned.closedByServer, { what: 'the refused connection to be closed' });

    const counted = await waitFor(async () => {
      // The probes' headroom may itself be full until its 2-second deadlines pass.
      const { status, body } = await request(server, '/metrics', { headers: { Accept: 'application/json' } });
      if (status !== 200) return false;
      const m = JSON.parse(body);
      return m.mcp_http_connections_refused_total >= 2 && m;
    }, { what: 'refusals to be counted' });
    assert.ok(counted.mcp_http_connections_refused_total >= 2);

    // Once the silent clients are gone, everyone is served again.
    for (const socket of sockets) socket.destroy();
    sockets = [];
    await waitFor(async () => {
      const ping = await request(server, '/mcp', {
        method: 'POST',
        headers: mcpHeaders,
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'edge', version: '1' } } }),
      });
      return ping.status === 200;
    }, { what: 'the server to serve again below the cap' });
  });
});

describe('slow clients', () => {
  let server;
  let dir;
  before(async () => {
    assert.ok(softFdLimit() >= 2500, `this test needs ~1,100 file descriptors (soft limit ${softFdLimit()})`);
    dir = tempDir();
    // A 6 MiB resource: a few of its answers are more than the socket buffers hold, so a
    // client that never reads stalls the server's writes.
    const tools = path.join(dir, 'tools');
    mkdirSync(tools);
    writeFileSync(path.join(tools, 'big.txt'), 'x'.repeat(6 * 1024 * 1024));
    writeFileSync(
      path.join(tools, 'big.json'),
      JSON.stringify({ resources: [{ uri: 'test://big', name: 'big', mimeType: 'text/plain', file: 'big.txt' }] }),
    );
    const config = writeConfig(dir, {
      server: { timeouts_ms: { header: 4000, body: 4000, idle: 4000, write: 4000 } },
    });
    // trace: the log says why each connection closed.
    server = await startServer({ args: ['--config', config, '--tools', tools], env: { LOG_LEVEL: 'trace' } });
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, server.log);
  });

  test('1,000 slowloris, trickled bodies and non-readers are cut off; a real client is served meanwhile', async () => {
    const pid = server.proc.pid;
    // Baseline: after one request, so whatever the first request opens lazily is counted.
    assert.equal((await request(server, '/live')).status, 200);
    const baseline = openFds(pid);

    // 1,000 clients trickling their headers, a byte a second.
    const slowloris = await openSockets(server.port, 1000);
    for (const socket of slowloris) socket.write(`GET /live HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);
    // 20 clients trickling a declared body.
    const slowBody = await openSockets(server.port, 20);
    for (const socket of slowBody)
      socket.write(
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\n` +
          'Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{"jsonrpc"',
      );
    const trickle = setInterval(() => {
      for (const socket of slowloris) if (!socket.closedByServer) socket.write('X');
      for (const socket of slowBody) if (!socket.closedByServer) socket.write(' ');
    }, 1000);

    // 3 clients that ask for a big answer (6 MiB) and never read it.
    const session = await openSession(server);
    // They read nothing until the server has dropped all three (its 4-second write deadline),
    // however long producing the 6 MiB answers takes (a sanitized build is slow at it).
    const slowRead = runSlowReaders(server, session, 3, 120);
    await slowRead.sent;

    try {
      // The server holds them all...
      await waitFor(() => openFds(pid) >= baseline + 1000, { what: 'the server to hold the slow connections' });
      // ...and still serves a real client, quickly.
      const client = await connectStreamable(server);
      const timings = [];
      try {
        for (let i = 0; i < 10; ++i) {
          const started = Date.now();
          const result = await client.client.callTool({ name: 'echo', arguments: { message: `m${i}` } });
          assert.equal(result.content[0].text, `echo: m${i}`);
          const took = Date.now() - started;
          timings.push(took);
          assert.ok(took < 3000, `a tool call took ${took} ms beside the slow clients`);
        }
      } finally {
        await client.close();
      }

      console.log(`tool calls beside the slow clients: ${timings.join(", ")} ms`);
      // The write deadline drops the non-readers once their answers stall (within 90 s even
      // on a slow build); only then do they read what they were sent.
      await waitFor(() => (server.log.match(/closed: write timeout/g)?.length ?? 0) >= 3, {
        ms: 90000,
        what: 'the write deadline to drop the 3 clients that never read',
      });
      slowRead.release();
      // The header, body and write deadlines (4 s) cut every slow client off; the server's
      // descriptors return to where they were.
      await waitFor(() => openFds(pid) <= baseline + 2, { ms: 45000, what: `the fds to return to ${baseline}` });
      await waitFor(() => slowloris.every((s) => s.closedByServer), { what: 'every slowloris socket to be closed' });
      assert.ok(slowBody.every((s) => s.closedByServer), 'every slow-body socket was closed');
      assert.ok(slowloris.every((s) => s.received === ''), 'slowloris got no answer');
      // The non-readers were dropped by the write deadline, long before their answers were out.
      for (const { bytes, ended } of await slowRead.done) {
        assert.ok(ended, 'the server closed a connection that never read');
        assert.ok(bytes < 6 * 1024 * 1024, `a client that never read got ${bytes} bytes`);
      }
      assert.equal(server.log.match(/closed: write timeout/g)?.length, 3);
    } finally {
      slowRead.release();
      clearInterval(trickle);
      for (const socket of [...slowloris, ...slowBody]) socket.destroy();
    }
    assert.equal((await request(server, '/live')).status, 200);
  });
});

// Runs wrk with bad_tokens.lua; resolves {statuses, output}.
function flood(server, { requests, forwarded = false }) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'wrk',
      ['-t1', '-c8', '-d300s', '--timeout', '10s', '-s', path.join(here, 'bad_tokens.lua'), server.url],
      { env: { ...process.env, REQUESTS: String(requests), FORWARDED: forwarded ? '1' : '0' } },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('statuses '));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}):\n${output}`));
      resolve({ statuses: JSON.parse(line.slice('statuses '.length)), output });
    });
  });
}

describe('a flood of bad tokens', () => {
  const requests = Number(process.env.EDGE_BAD_TOKENS ?? 20000);
  let database;
  let server;
  let token;
  before(async () => {
    ({ db: database, token } = Database.withToken({ name: 'legit' }));
    // RSS is measured: a sanitized build keeps no quarantine of freed memory here.
    server = await startServer({ database, env: { LOG_LEVEL: 'warn', ASAN_OPTIONS: 'quarantine_size_mb=0' } });
  });
  after(async () => {
    const { code } = await server.stop();
    database.remove();
    assert.equal(code, 0, server.log);
  });

  const call = (localAddress, bearer = token) =>
    request(server, '/mcp', {
      method: 'POST',
      localAddress,
      headers: { ...mcpHeaders, Authorization: `Bearer ${bearer}` },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'legit', version: '1' } },
      }),
    });

  test('a token the auth cache knows to be valid is served while its address is limited', async () => {
    // Behind a proxy that does not forward the client's address, one address is many clients:
    // one guessing must not lock out the others whose tokens were just checked.
    assert.equal((await call('127.0.0.3')).status, 200);
    const bad = [];
    for (let i = 0; i < 11; ++i) bad.push((await call('127.0.0.3', `mcp_bad_${i}_${'x'.repeat(40)}`)).status);
    assert.equal(bad.at(-1), 429, JSON.stringify(bad));
    assert.equal((await call('127.0.0.3')).status, 200);
    assert.equal((await call('127.0.0.3', 'mcp_bad_again_' + 'y'.repeat(40))).status, 429);
  });

  test(`${requests} distinct bad tokens from one address: refused by the limiter, memory bounded`, async () => {
    const pid = server.proc.pid;
    assert.equal((await call('127.0.0.2')).status, 200);
    const rssBefore = rssKiB(pid);
    const started = Date.now();
    const attack = flood(server, { requests });
    // During the attack a valid token from another address is served.
    let served = 0;
    let done = false;
    attack.finally(() => (done = true)).catch(() => {});
    while (!done) {
      const response = await call('127.0.0.2');
      assert.equal(response.status, 200, response.body);
      ++served;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { statuses, output } = await attack;
    const seconds = (Date.now() - started) / 1000;
    const rssAfter = rssKiB(pid);
    const total = Object.values(statuses).reduce((a, b) => a + b, 0);
    const limited = statuses['429'] ?? 0;
    const unauthorized = statuses['401'] ?? 0;
    console.log(
      `${total} bad tokens in ${seconds.toFixed(1)} s: ${JSON.stringify(statuses)}; ` +
        `VmRSS ${rssBefore} -> ${rssAfter} KiB; valid calls from 127.0.0.2 meanwhile: ${served}`,
    );
    assert.ok(total >= requests * 0.99, `wrk got ${total} answers:\n${output}`);
    // The failed-auth limiter lets 10 guesses per address through per minute (plus what refilled
    // while the flood ran); everything else is 429.
    assert.ok(unauthorized >= 10 && unauthorized <= 10 + Math.ceil(seconds / 6) + 2, `401s: ${unauthorized}`);
    assert.equal(limited + unauthorized, total);
    assert.ok(served >= 1);
    assert.ok(rssAfter - rssBefore < 16 * 1024, `RSS grew by ${rssAfter - rssBefore} KiB`);
    const m = await metrics(server);
    assert.ok(m.mcp_rate_limit_clients <= 3, `limiter tracks ${m.mcp_rate_limit_clients} clients`);
  });

  test('bad tokens from as many addresses as requests: the limiter table stays bounded', async () => {
    const pid = server.proc.pid;
    const rssBefore = rssKiB(pid);
    const started = Date.now();
    const { statuses } = await flood(server, { requests, forwarded: true });
    const seconds = (Date.now() - started) / 1000;
    const rssAfter = rssKiB(pid);
    const total = Object.values(statuses).reduce((a, b) => a + b, 0);
    const m = await metrics(server);
    console.log(
      `${total} bad tokens from random addresses in ${seconds.toFixed(1)} s: ${JSON.stringify(statuses)}; limiter clients ` +
        `${m.mcp_rate_limit_clients}; VmRSS ${rssBefore} -> ${rssAfter} KiB`,
    );
    // Every address is new, so each is refused by authentication (401) and tracked, up to the
    // limiter's cap (100,000 addresses per limiter).
    assert.ok((statuses['401'] ?? 0) >= total * 0.95);
    // An address is forgotten once its bucket is full again (one failure refills in 6 s at 10
    // a minute): only a flood shorter than that is tracked whole.
    if (seconds < 5)
      assert.ok(m.mcp_rate_limit_clients >= Math.min(total, 100000) * 0.9, `tracked ${m.mcp_rate_limit_clients}`);
    assert.ok(m.mcp_rate_limit_clients <= 100000 + 3);
    assert.ok(rssAfter - rssBefore < 32 * 1024, `RSS grew by ${rssAfter - rssBefore} KiB`);
    assert.equal((await call('127.0.0.2')).status, 200);
  });
});
