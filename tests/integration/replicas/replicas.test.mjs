// Three `mcpd serve --http --stateless` replicas on one real PostgreSQL (the CTest fixture
// `postgres`, a database of this test's own), with a real nginx running the shipped example
// packaging/nginx/mcpd-replicas.conf round robin in front. Tokens and users are changed with
// the real CLI; every replica must follow at once through the database's change notices
// (LISTEN/NOTIFY), not after its auth cache's 2 s lifetime. Also: a replica killed with SIGKILL
// costs a client that retries once nothing, SIGTERM takes a replica out of service while its
// call in flight finishes, and a session is only known to the replica that holds it.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { Server, mcpHeaders, mcpdBinary, openSession, tempDir, toolsDir, waitFor } from '../http/helpers.mjs';
import { Nginx } from '../nginx/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const siteFile = path.resolve(here, '../../../packaging/nginx/mcpd-replicas.conf');
const version = '2025-11-25';
// Revocation must reach every replica within this: far below the cache lifetime (2 s) that
// would bound it without notices, and far above what a loaded machine needs (milliseconds).
const k_bound_ms = 1000;

function pgBaseUrl() {
  const file = process.env.MCPD_TEST_PG_URL_FILE;
  if (!file) throw new Error('MCPD_TEST_PG_URL_FILE is not set (run this test through ctest)');
  return readFileSync(file, 'utf8').trim();
}

function psql(url, sql) {
  return execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], { encoding: 'utf8' }).trim();
}

function baseEnv() {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
}

// A database of our own, so other tests' changes on the shared one never clear our caches.
class PgDatabase {
  constructor() {
    const base = pgBaseUrl();
    this.name = `mcpd_replicas_${process.pid}`;
    this.admin = base;
    psql(base, `DROP DATABASE IF EXISTS ${this.name}`);
    psql(base, `CREATE DATABASE ${this.name}`);
    this.url = base.replace(/\/[^/?]+(\?|$)/, `/${this.name}$1`);
  }

  mcpd(...args) {
    return execFileSync(mcpdBinary(), [...args, '--database', this.url], { env: baseEnv(), encoding: 'utf8' });
  }

  // Runs the CLI asynchronously; resolves with the moment it exited (performance.now()).
  mcpdTimed(...args) {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      execFile(mcpdBinary(), [...args, '--database', this.url], { env: baseEnv() }, (error, stdout, stderr) => {
        const exited = performance.now();
        if (error) reject(new Error(`mcpd ${args.join(' ')}: ${error.message}\n${stderr}`));
        else resolve({ exited, took: exited - started });
      });
    });
  }

  createToken(user, name) {
    return JSON.parse(this.mcpd('token', 'create', '--user', user, '--name', name, '--json'));
  }

  remove() {
    psql(this.admin, `DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
  }
}

let nextId = 1;
function ping(target, token, { session, signal } = {}) {
  const headers = { ...mcpHeaders, Authorization: `Bearer ${token}`, 'MCP-Protocol-Version': version };
  if (session) headers['Mcp-Session-Id'] = session;
  return fetch(target.url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'ping' }),
    signal,
  });
}

async function status(target, token, options) {
  const response = await ping(target, token, options);
  await response.arrayBuffer();
  return response.status;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls each replica every ~10 ms from `since` until it answers 401; the ms each one took.
async function untilRefused(replicas, token, since) {
  return Promise.all(
    replicas.map(async (replica) => {
      const deadline = since + 10000;
      for (;;) {
        const code = await status(replica, token);
        const now = performance.now();
        if (code === 401) return now - since;
        assert.equal(code, 200, `replica ${replica.port}: unexpected ${code}`);
        if (now > deadline) throw new Error(`replica ${replica.port} still accepts the token after 10 s`);
        await sleep(10);
      }
    }),
  );
}

function startReplica(db, args = ['--stateless']) {
  return new Server({ database: db, args, tools: toolsDir, env: { LOG_FORMAT: 'text' } }).start();
}

describe('replicas on one PostgreSQL behind nginx (packaging/nginx/mcpd-replicas.conf)', () => {
  let db;
  let replicas = [];
  let stateful = [];
  let proxy;
  before(async () => {
    db = new PgDatabase();
    db.mcpd('user', 'add', 'ada@example.com');
    db.mcpd('user', 'add', 'bob@example.com');
    replicas = await Promise.all([0, 1, 2].map(() => startReplica(db)));
    proxy = await new Nginx({
      siteFile,
      lines: replicas.map((r, i) => [
        `    server 127.0.0.1:${8001 + i} max_fails=1 fail_timeout=10s;\n`,
        `    server 127.0.0.1:${r.port} max_fails=1 fail_timeout=10s;\n`,
      ]),
    }).start();
    // Every replica is listening for change notices before anything is changed.
    for (const replica of replicas)
      await waitFor(() => /auth change notices: listening on/.test(replica.log), { what: `replica ${replica.port} to LISTEN` });
  });
  after(async () => {
    if (proxy) await proxy.stop();
    for (const server of [...replicas, ...stateful]) await server.stop('SIGKILL');
    if (db) db.remove();
  });

  test('a token created with the CLI works on every replica at once, directly and through nginx', async () => {
    const { token } = db.createToken('ada@example.com', 'fresh');
    const direct = await Promise.all(replicas.map((replica) => status(replica, token)));
    assert.deepEqual(direct, [200, 200, 200]);
    const proxied = [];
    for (let i = 0; i < 6; i++) proxied.push(await status(proxy, token));
    assert.deepEqual(proxied, [200, 200, 200, 200, 200, 200]);
    // Round robin: every replica served some of those.
    await waitFor(() => replicas.every((r) => proxy.upstreams().has(r.port)), { ms: 5000, what: 'every replica in the access log' });
  });

  test('a revoked token is refused by every replica within well under a second', async () => {
    const { id, token } = db.createToken('ada@example.com', 'to-revoke');
    // Each replica caches the token as valid now: without notices it would stay valid ~2 s.
    assert.deepEqual(await Promise.all(replicas.map((r) => status(r, token))), [200, 200, 200]);
    const { exited, took } = await db.mcpdTimed('token', 'revoke', String(id));
    const delays = await untilRefused(replicas, token, exited);
    console.log(
      `revocation: CLI took ${took.toFixed(0)} ms; first 401 after the CLI exited: ` +
        delays.map((d, i) => `replica ${i + 1} ${d.toFixed(1)} ms`).join(', '),
    );
    for (const delay of delays) assert.ok(delay < k_bound_ms, `took ${delay} ms`);
    // Log lines below warning are written about a millisecond after they are logged.
    for (const replica of replicas) {
      const notice = new RegExp(`auth change notice: 'token:${id}'`);
      await waitFor(() => notice.test(replica.log), { ms: 5000, what: `replica ${replica.port} to log the notice` });
    }
    assert.equal(await status(proxy, token), 401);
  });

  test("a disabled user's token is refused by every replica within well under a second", async () => {
    const { token } = db.createToken('bob@example.com', 'bob');
    assert.deepEqual(await Promise.all(replicas.map((r) => status(r, token))), [200, 200, 200]);
    const { exited, took } = await db.mcpdTimed('user', 'disable', 'bob@example.com');
    const delays = await untilRefused(replicas, token, exited);
    console.log(
      `user disabled: CLI took ${took.toFixed(0)} ms; first 401 after the CLI exited: ` +
        delays.map((d, i) => `replica ${i + 1} ${d.toFixed(1)} ms`).join(', '),
    );
    for (const delay of delays) assert.ok(delay < k_bound_ms, `took ${delay} ms`);
    for (const replica of replicas) {
      await waitFor(() => /auth change notice: 'user:\d+'/.test(replica.log), {
        ms: 5000,
        what: `replica ${replica.port} to log the notice`,
      });
    }
  });

  test('a lost LISTEN connection is re-established (cache cleared) and notices flow again', async () => {
    const { id, token } = db.createToken('ada@example.com', 'after-reconnect');
    const listeners = () =>
      Number(psql(db.url, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'mcpd-auth-notices'`));
    assert.equal(listeners(), 3);
    psql(db.url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'mcpd-auth-notices'`);
    for (const replica of replicas) {
      await waitFor(() => /auth change notices: lost the connection/.test(replica.log), { what: 'the loss to be logged' });
      await waitFor(() => /auth change notices: listening on .* again; auth cache cleared/.test(replica.log), {
        what: 'the listener to come back',
      });
    }
    assert.equal(listeners(), 3);
    assert.deepEqual(await Promise.all(replicas.map((r) => status(r, token))), [200, 200, 200]);
    // psql, not the CLI: the notice comes from the database's trigger, whoever changes the row.
    psql(db.url, `UPDATE tokens SET is_active = FALSE WHERE id = ${id}`);
    const delays = await untilRefused(replicas, token, performance.now());
    for (const delay of delays) assert.ok(delay < k_bound_ms, `took ${delay} ms`);
  });

  test('a session lives on one replica: another (stateful) replica answers its id with 404', async () => {
    const { token } = db.createToken('ada@example.com', 'sessions');
    stateful = await Promise.all([0, 1].map(() => startReplica(db, [])));
    const [home, other] = stateful;
    const session = await openSession(home, { token, version });
    assert.equal(await status(home, token, { session }), 200);
    const response = await ping(other, token, { session });
    assert.equal(response.status, 404);
    assert.equal((await response.json()).error.code, -32001);
    assert.equal(await status(home, token, { session }), 200);
  });

  test('a replica killed with SIGKILL costs a client that retries once nothing', async () => {
    const { token } = db.createToken('ada@example.com', 'sigkill');
    // Keep-alive connections from nginx to every replica, then the kill.
    for (let i = 0; i < 6; i++) assert.equal(await status(proxy, token), 200);
    const killed = replicas[1];
    killed.proc.kill('SIGKILL');
    await killed.exited;
    let retried = 0;
    for (let i = 0; i < 30; i++) {
      let code = await status(proxy, token).catch(() => 'network error');
      if (code !== 200) {
        retried++;
        code = await status(proxy, token);
      }
      assert.equal(code, 200, `request ${i} failed twice`);
    }
    // GETs are retried by nginx itself: never a failure.
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${proxy.origin}/mcp/health`)).status, 200);
    console.log(`SIGKILL: 30 POSTs through nginx after the kill, ${retried} needed the client's one retry`);
  });

  test('SIGTERM: the replica leaves service at once while its call in flight finishes', async () => {
    const { token } = db.createToken('ada@example.com', 'sigterm');
    const draining = replicas[2];
    const dir = tempDir();
    const pidFile = path.join(dir, 'slow.pid');
    const call = fetch(draining.url, {
      method: 'POST',
      headers: { ...mcpHeaders, Authorization: `Bearer ${token}`, 'MCP-Protocol-Version': version },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'slow', arguments: { pid_file: pidFile, seconds: 2 } },
      }),
    });
    await waitFor(() => existsSync(pidFile), { what: 'the slow tool to start' });
    assert.equal((await fetch(`${draining.origin}/ready`)).status, 200);
    draining.proc.kill('SIGTERM');
    // Not ready from the moment the signal lands: its listener is closed, so probes and nginx
    // get connection refused (an orchestrator's probe fails the same way as on a 503).
    await waitFor(
      async () => {
        try {
          return (await fetch(`${draining.origin}/ready`)).status === 503;
        } catch {
          return true;
        }
      },
      { ms: 1000, what: '/ready to stop answering 200' },
    );
    // Meanwhile nginx serves from the replica left (the other one was killed above).
    for (let i = 0; i < 5; i++) assert.equal(await status(proxy, token), 200);
    const response = await call;
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.match(body.result.content[0].text, /slept 2 s/);
    const { code } = await draining.wait();
    assert.equal(code, 0, draining.log);
    rmSync(dir, { recursive: true, force: true });
  });
});
