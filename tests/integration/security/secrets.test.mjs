// Secrets never leave mcpd: the real `mcpd serve --http` at trace level with JSON logs, JWT
// auth, a token pepper, a state key and an upstream API key, driven through auth failures
// (unknown, revoked and malformed tokens, forged and expired JWTs), upstream calls (success,
// 5xx with retries, unreachable) and database errors (a PostgreSQL URL with a password that
// cannot connect). Every log line, every answer to a client, /metrics and `mcpd config show`
// is searched for any 16-character piece of every secret.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Server, baseEnv, mcpdBinary, post, runMcpd, startRecorder, tempDir, waitFor, writeJson } from './helpers.mjs';

const secrets = {
  jwtSecret: `jwt-secret-${randomBytes(24).toString('hex')}`,
  pepper: `pepper-${randomBytes(24).toString('hex')}`,
  stateKey: `state-key-${randomBytes(24).toString('hex')}`,
  apiKey: `upstream-api-key-${randomBytes(16).toString('hex')}`,
  dbPassword: `db-password-${randomBytes(12).toString('hex')}`,
};

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
function jwt(claims, key = secrets.jwtSecret) {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}

// Every 16-character piece of `secret` found in `haystack` (a masked form that keeps a few
// trailing characters is fine; anything longer is a leak).
function leaks(haystack, secret) {
  const found = [];
  for (let i = 0; i + 16 <= secret.length; i += 1)
    if (haystack.includes(secret.slice(i, i + 16))) found.push(secret.slice(i, i + 16));
  return found;
}

function assertNoLeak(haystack, what, extra = {}) {
  for (const [name, secret] of Object.entries({ ...secrets, ...extra }))
    assert.deepEqual(leaks(haystack, secret), [], `${name} leaked into ${what}`);
}

describe('secrets stay out of logs, answers, metrics and config show', () => {
  let dir;
  let recorder;
  let server;
  let env;
  let dbUrl;
  const tokens = {}; // the bearer credentials used below, all secret too
  const answers = []; // every response body and header a client saw

  before(async () => {
    dir = tempDir();
    recorder = await startRecorder((req, res) => {
      if (req.url.startsWith('/items/fail/')) {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        return res.end('{"detail": "try later"}');
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
    });
    const descriptors = writeJson(path.join(dir, 'tools.json'), {
      tools: ['rec', 'down'].map((upstream) => ({
        name: `get_${upstream}`,
        description: `Read an item from ${upstream}.`,
        inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        handler: { http: { upstream, method: 'GET', path: '/items/{id}/' } },
      })),
    });
    const config = writeJson(path.join(dir, 'mcpd.json'), {
      upstreams: {
        rec: { base_url: recorder.url, api_key_env: 'REC_API_KEY', max_retries: 1 },
        down: { base_url: 'http://127.0.0.1:9', api_key_env: 'REC_API_KEY', max_retries: 1 },
      },
      log: { level: 'trace', format: 'json' },
    });
    dbUrl = `sqlite://${path.join(dir, 'mcpd.db')}`;
    env = {
      JWT_SECRET: secrets.jwtSecret,
      MCPD_TOKEN_PEPPER: secrets.pepper,
      MCPD_STATE_KEY: secrets.stateKey,
      REC_API_KEY: secrets.apiKey,
      LOG_LEVEL: 'trace',
      LOG_FORMAT: 'json',
    };
    const cli = (...args) => {
      const run = runMcpd([...args, '--database', dbUrl], env);
      assert.equal(run.status, 0, run.stderr);
      return run.stdout;
    };
    cli('user', 'add', 'ada@example.com');
    tokens.valid = JSON.parse(cli('token', 'create', '--user', 'ada@example.com', '--name', 'laptop', '--json')).token;
    const revoked = JSON.parse(cli('token', 'create', '--user', 'ada@example.com', '--name', 'old', '--json'));
    cli('token', 'revoke', String(revoked.id));
    tokens.revoked = revoked.token;
    const other = `sqlite://${path.join(dir, 'other.db')}`;
    assert.equal(runMcpd(['user', 'add', 'ada@example.com', '--database', other], env).status, 0);
    const made = runMcpd(['token', 'create', '--user', 'ada@example.com', '--name', 'x', '--json', '--database', other], env);
    tokens.unknown = JSON.parse(made.stdout).token; // well-formed, checksum right, not in this database
    tokens.malformed = `mcpd_${randomBytes(20).toString('hex')}`;
    tokens.garbage = `not-a-token-${randomBytes(16).toString('hex')}`;
    const now = Math.floor(Date.now() / 1000);
    tokens.jwtValid = jwt({ sub: 'ada@example.com', exp: now + 600, iat: now });
    tokens.jwtExpired = jwt({ sub: 'ada@example.com', exp: now - 3600, iat: now - 7200 });
    tokens.jwtForged = jwt({ sub: 'ada@example.com', exp: now + 600 }, `wrong-key-${randomBytes(24).toString('hex')}`);

    server = await new Server({ database: { url: dbUrl }, tools: descriptors, args: ['--config', config], env }).start();
  });

  after(async () => {
    await server?.stop();
    await recorder?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function exchange(body, token, headers = {}) {
    const response = await post(server, body, { token, headers: { 'MCP-Protocol-Version': '2025-11-25', ...headers } });
    const text = await response.text();
    answers.push(JSON.stringify([...response.headers]), text);
    return { status: response.status, text };
  }

  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'secrets', version: '1' } },
  };

  test('bad credentials of every kind are refused with 401', async () => {
    for (const name of ['revoked', 'unknown', 'malformed', 'garbage', 'jwtExpired', 'jwtForged']) {
      const { status } = await exchange(initialize, tokens[name]);
      assert.equal(status, 401, name);
    }
    // The token in other places a client might put it.
    const query = await fetch(`${server.url}?access_token=${tokens.garbage}`, { method: 'POST', body: JSON.stringify(initialize) });
    answers.push(await query.text());
    const basic = await exchange(initialize, undefined, { Authorization: `Basic ${Buffer.from(`ada:${tokens.garbage}`).toString('base64')}` });
    assert.equal(basic.status, 401);
  });

  test('valid credentials call upstreams: success, 5xx with a retry, unreachable', async () => {
    for (const token of [tokens.valid, tokens.jwtValid]) {
      const init = await post(server, initialize, { token });
      assert.equal(init.status, 200, await init.clone().text());
      answers.push(await init.text());
      const session = init.headers.get('mcp-session-id');
      const headers = { 'Mcp-Session-Id': session };
      await exchange({ jsonrpc: '2.0', method: 'notifications/initialized' }, token, headers);
      for (const [name, id] of [['get_rec', '1'], ['get_rec', 'fail'], ['get_down', '1']]) {
        const { status, text } = await exchange({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: { id } } }, token, headers);
        assert.equal(status, 200, text);
      }
      // A malformed request and an unknown tool: errors for the client, logs for us.
      await exchange('{"jsonrpc": "2.0", "id": 3, "method": ', token, headers);
      await exchange({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'nope', arguments: {} } }, token, headers);
    }
    // The upstream did get its key: the test would prove nothing otherwise.
    assert.ok(recorder.requests.some((r) => r.headers.authorization === `Bearer ${secrets.apiKey}`));
    assert.ok(recorder.requests.filter((r) => r.url.startsWith('/items/fail/')).length >= 2, 'retried');
  });

  test('/metrics holds no secret', async () => {
    const metrics = await (await fetch(`${server.origin}/metrics`)).text();
    assert.match(metrics, /mcp_auth_failures_total/);
    assertNoLeak(metrics, '/metrics', tokens);
    const json = await (await fetch(`${server.origin}/metrics`, { headers: { Accept: 'application/json' } })).text();
    assertNoLeak(json, '/metrics (JSON)', tokens);
  });

  test('the answers to clients hold no secret', () => {
    assertNoLeak(answers.join('\n'), 'answers to clients', tokens);
  });

  test('the server log (trace, JSON) holds no secret', async () => {
    // Lines below warning are written about a millisecond after they are logged.
    await waitFor(() => /authentication failed/.test(server.log) && /retry 1\/1/.test(server.log), {
      ms: 5000,
      what: 'the log to show the failures exercised',
    });
    const log = server.log;
    assert.ok(/"level":"(TRACE|DEBUG)"/.test(log), 'the log is not at trace/debug level'); // else this proves little
    assertNoLeak(log, 'the server log', tokens);
  });

  test('mcpd config show masks every secret, including a database password', () => {
    dbUrl = `postgresql://mcpd:${secrets.dbPassword}@127.0.0.1:1/mcpd`;
    for (const format of [[], ['--json']]) {
      const run = runMcpd(['config', 'show', ...format], { ...env, DATABASE_URL: dbUrl, MCPD_TOKEN: tokens.valid, DJANGO_BASE_URL: `http://django:${secrets.dbPassword}@127.0.0.1:9`, DJANGO_API_KEY: secrets.apiKey });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /postgresql:\/\/mcpd:\*\*\*@127\.0\.0\.1:1\/mcpd/);
      assertNoLeak(run.stdout + run.stderr, 'config show', tokens);
    }
  });

  test('database errors do not show the database password', () => {
    const url = `postgresql://mcpd:${secrets.dbPassword}@127.0.0.1:1/mcpd?connect_timeout=2`;
    const list = runMcpd(['token', 'list', '--database', url], env);
    assert.equal(list.status, 3, list.stderr);
    // The PostgreSQL module was loaded and libpq's own error is shown, with the URL redacted.
    assert.match(list.stderr, /database unreachable: postgresql:\/\/mcpd:\*\*\*@127\.0\.0\.1:1\/mcpd.*port 1 failed/);
    assertNoLeak(list.stdout + list.stderr, 'token list errors');
    const serve = spawnSync(mcpdBinary(), ['serve', '--http', '--listen', '127.0.0.1:0', '--database', url], {
      env: baseEnv(env),
      encoding: 'utf8',
      timeout: 8000,
      killSignal: 'SIGTERM',
    });
    const output = serve.stdout + serve.stderr;
    assert.match(output, /database unreachable: postgresql:\/\/mcpd:\*\*\*@/);
    assertNoLeak(output, 'serve with an unreachable database');
  });
});
