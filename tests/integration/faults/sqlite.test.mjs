// SQLite shared by `mcpd serve --http` and the admin CLI, under faults:
// 1. the CLI creates and revokes tokens in loops (four at once, 200 iterations in all, or as
//    many as fit in 40 s on a slow machine — at least 40) while
//    the service serves authenticated load on the same file and records each new token's first
//    use: no "database is locked" reaches a client (every valid token gets 200, a revoked one
//    401) or the CLI (every call exits 0);
// 2. the server is killed with SIGKILL under write load (usage recording of new tokens, and CLI
//    token creation at the same time, one CLI killed as well): PRAGMA integrity_check says ok,
//    and a restarted server on the same file serves.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { Database, mcpdBinary, startServer, waitFor } from '../http/helpers.mjs';
import { modernCall, send, sleep, toolsDir } from './helpers.mjs';

const LOOPS = 4;
const ITERATIONS = 50; // per loop: 200 create + revoke pairs in all ...
const BUDGET_MS = 30000; // ... unless the machine is too busy to do them in this time
const MIN_PAIRS = 20;
const env = { RATE_LIMIT_REQUESTS: '1000000', LOG_LEVEL: 'info' };

function integrityCheck(file) {
  return execFileSync('python3', ['-c', 'import sqlite3, sys\nprint(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])', file], {
    encoding: 'utf8',
  }).trim();
}

describe('SQLite shared by the service and the CLI', () => {
  let db;
  let cliCalls = 0;

  // One CLI call; resolves to {code, stdout, stderr} (never rejects).
  async function cli(...args) {
    cliCalls += 1;
    try {
      const { stdout, stderr } = await promisify(execFile)(mcpdBinary(), [...args, '--database', db.url], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp' },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      return { code: error.code, signal: error.signal, stdout: error.stdout, stderr: error.stderr };
    }
  }

  before(() => {
    db = new Database();
    db.addUser('ada@example.com');
  });

  after(() => db?.remove());

  test('the CLI creates and revokes tokens while the service serves load', async (t) => {
    const server = await startServer({ database: db, tools: toolsDir, env });
    const steady = [0, 1, 2].map((i) => db.createToken({ name: `steady-${i}` }).token);
    const answers = [];
    let running = true;
    const load = steady.map(async (token, i) => {
      while (running) {
        const reply = await send(server.origin, modernCall('hello', { who: `steady-${i}` }), { token });
        answers.push({ kind: 'steady', status: reply.status, body: reply.body });
        await sleep(25);
      }
    });
    const failures = [];
    let pairs = 0;
    const deadline = Date.now() + BUDGET_MS;
    const loop = async (n) => {
      for (let i = 0; i < ITERATIONS && Date.now() < deadline; i++) {
        const created = await cli('token', 'create', '--user', 'ada@example.com', '--name', `loop-${n}-${i}`, '--json');
        if (created.code !== 0) {
          failures.push({ what: 'create', ...created });
          continue;
        }
        const { id, token } = JSON.parse(created.stdout);
        // The new token's first use: the server looks it up and records its use (a write).
        const used = await send(server.origin, modernCall('hello', { who: 'new' }), { token });
        answers.push({ kind: 'new', status: used.status, body: used.body });
        const revoked = await cli('token', 'revoke', String(id));
        if (revoked.code !== 0) failures.push({ what: 'revoke', ...revoked });
        else pairs += 1;
        // Revocation reaches this server within the cache's lifetime (2 s). Checked a few times
        // only: each 401 counts against this address's failed-authentication limit (10 a
        // minute), past which every request from it, valid or not, is refused with 429.
        if (i === 0 || (i === 25 && n < 2)) {
          await waitFor(async () => (await send(server.origin, modernCall('hello'), { token })).status === 401, {
            ms: 10000,
            what: 'the revoked token to be refused',
          });
        }
      }
    };
    const started = Date.now();
    try {
      await Promise.all([...Array(LOOPS).keys()].map(loop));
    } finally {
      running = false;
      await Promise.all(load);
    }
    t.diagnostic(`${pairs} create/revoke pairs (${cliCalls} CLI calls) in ${Date.now() - started} ms, ${answers.length} answers`);
    assert.deepEqual(failures, [], 'every CLI call exits 0');
    assert.ok(pairs >= MIN_PAIRS, `${pairs} pairs done (at least ${MIN_PAIRS})`);
    const bad = answers.filter((a) => a.status !== 200);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${answers.length} valid-token requests not answered 200`);
    assert.ok(answers.filter((a) => a.kind === 'steady').length > 20, 'the steady load ran throughout');
    assert.ok(!/database is locked|SQLITE_BUSY/i.test(server.log), 'no busy database in the server log');
    await server.stop();
  });

  test('SIGKILL under write load leaves an intact database, and a restarted server serves', async (t) => {
    const server = await startServer({ database: db, tools: toolsDir, env });
    // Tokens never used yet: each first use is a usage write.
    const create = async (name) => {
      const created = await cli('token', 'create', '--user', 'ada@example.com', '--name', name, '--json');
      assert.equal(created.code, 0, created.stderr);
      return JSON.parse(created.stdout).token;
    };
    const unused = await Promise.all([...Array(16).keys()].map((i) => create(`kill-${i}`)));
    const keeper = await create('keeper');
    let running = true;
    let usageAnswers = 0;
    // A CLI in the middle of its write, killed too.
    const victim = execFile(mcpdBinary(), ['token', 'create', '--user', 'ada@example.com', '--name', 'victim', '--database', db.url]);
    const writers = [0, 1, 2, 3].map(async (i) => {
      while (running && unused.length) {
        const reply = await send(server.origin, modernCall('hello', { who: `w${i}` }), { token: unused.pop() });
        if (reply.status === 200) usageAnswers += 1;
      }
    });
    const creators = [0, 1].map(async (i) => {
      for (let n = 0; running; n++) await cli('token', 'create', '--user', 'ada@example.com', '--name', `c-${i}-${n}`);
    });
    // Kill while most first uses are still in flight.
    await waitFor(() => usageAnswers >= 2, { what: 'usage writes under way' });
    victim.kill('SIGKILL');
    server.proc.kill('SIGKILL');
    const exit = await server.exited;
    assert.equal(exit.signal, 'SIGKILL');
    running = false;
    await Promise.all([...writers, ...creators]);
    t.diagnostic(`${usageAnswers} of 16 first uses answered before the kill`);

    assert.equal(integrityCheck(db.file), 'ok');

    const again = await startServer({ database: db, tools: toolsDir, env });
    try {
      const reply = await send(again.origin, modernCall('hello', { who: 'after' }), { token: keeper });
      assert.equal(reply.status, 200, JSON.stringify(reply));
      assert.equal(reply.body.result.content[0].text, 'hello after');
      const listed = await cli('token', 'list', '--all', '--json');
      assert.equal(listed.code, 0, listed.stderr);
      assert.ok(JSON.parse(listed.stdout).some((token) => token.name === 'keeper'));
      const created = await cli('token', 'create', '--user', 'ada@example.com', '--name', 'after-kill', '--json');
      assert.equal(created.code, 0, created.stderr);
      const fresh = await send(again.origin, modernCall('hello', { who: 'x' }), { token: JSON.parse(created.stdout).token });
      assert.equal(fresh.status, 200);
    } finally {
      await again.stop();
    }
    assert.equal(integrityCheck(db.file), 'ok');
  });
});
