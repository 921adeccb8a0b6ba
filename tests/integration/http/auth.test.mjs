// Bearer tokens made by the real CLI (`mcpd token create --json`) against a temporary SQLite
// database, checked by the real server: full, restricted, revoked and expired tokens, missing,
// malformed and query-string credentials, sessions bound to their identity, rate limits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  Database,
  connectStreamable,
  initializeRequest,
  openSession,
  post,
  startServer,
  waitFor,
} from './helpers.mjs';

const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };

describe('bearer authentication', () => {
  let db;
  let server;
  let full;
  before(async () => {
    db = new Database();
    db.addUser('ada@example.com');
    db.addUser('bob@example.com');
    full = db.createToken({ name: 'full' });
    server = await startServer({ database: db });
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, server.log);
    db.remove();
  });

  test('a request without a token gets 401 with a Bearer challenge', async () => {
    const response = await post(server, initializeRequest());
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="mcpd"');
    assert.ok(response.headers.get('x-correlation-id'));
  });

  test('a bad token gets 401 invalid_token', async () => {
    for (const authorization of ['Bearer mcpd_not-a-real-token', 'Basic YWRhOnNlY3JldA==', 'Bearer']) {
      const response = await post(server, initializeRequest(), {
        headers: { Authorization: authorization },
      });
      assert.equal(response.status, 401, authorization);
      assert.equal(
        response.headers.get('www-authenticate'),
        'Bearer realm="mcpd", error="invalid_token"',
      );
    }
    // A well-formed token from another database is unknown here.
    const other = new Database();
    other.addUser('eve@example.com');
    const stranger = other.createToken({ user: 'eve@example.com' });
    other.remove();
    const response = await post(server, initializeRequest(), { token: stranger.token });
    assert.equal(response.status, 401);
  });

  test('a token in the query string is refused, and never used', async () => {
    const response = await post(server, initializeRequest(), {
      path: `/mcp?access_token=${encodeURIComponent(full.token)}`,
    });
    assert.equal(response.status, 400);
    assert.match(response.headers.get('www-authenticate'), /invalid_request/);
    assert.equal(response.headers.get('mcp-session-id'), null);
    // Not even with a valid header alongside.
    const both = await post(server, initializeRequest(), {
      token: full.token,
      path: `/mcp?token=${encodeURIComponent(full.token)}`,
    });
    assert.equal(both.status, 400);
  });

  test('a full token sees and calls every tool', async () => {
    const { client, close } = await connectStreamable(server, { token: full.token });
    try {
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(names, ['ask', 'echo', 'progress', 'secret', 'slow']);
      const result = await client.callTool({ name: 'secret', arguments: {} });
      assert.equal(result.content[0].text, 'the secret');
    } finally {
      await close();
    }
  });

  test('a restricted token neither sees nor calls tools outside its list', async () => {
    const restricted = db.createToken({ name: 'restricted', tools: ['echo'] });
    const { client, close } = await connectStreamable(server, { token: restricted.token });
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.deepEqual(names, ['echo']);
      let refused = false;
      try {
        const result = await client.callTool({ name: 'secret', arguments: {} });
        refused = result.isError === true && !JSON.stringify(result).includes('the secret');
      } catch {
        refused = true;
      }
      assert.ok(refused, 'secret must be refused');
      const ok = await client.callTool({ name: 'echo', arguments: { message: 'allowed' } });
      assert.equal(ok.content[0].text, 'echo: allowed');
    } finally {
      await close();
    }
  });

  test('a revoked token is refused within 5 seconds', async () => {
    const doomed = db.createToken({ name: 'doomed' });
    const session = await openSession(server, { token: doomed.token });
    const options = { token: doomed.token, headers: { 'Mcp-Session-Id': session } };
    assert.equal((await post(server, ping, options)).status, 200);
    db.revoke(doomed.id);
    const revokedAt = Date.now();
    await waitFor(async () => (await post(server, ping, options)).status === 401, {
      ms: 10000,
      what: 'the revoked token to be refused',
    });
    const elapsed = Date.now() - revokedAt;
    assert.ok(elapsed < 5000, `refused after ${elapsed} ms`);
  });

  test('an expired token is refused', async () => {
    const old = db.createToken({ name: 'old', expiresDays: 1 });
    db.expire(old.id);
    const response = await post(server, initializeRequest(), { token: old.token });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate'), /invalid_token/);
  });

  test('a session belongs to the identity that opened it', async () => {
    const session = await openSession(server, { token: full.token });
    const other = db.createToken({ user: 'bob@example.com', name: 'bob' });
    const response = await post(server, ping, {
      token: other.token,
      headers: { 'Mcp-Session-Id': session },
    });
    assert.equal(response.status, 404);
    const mine = await post(server, ping, {
      token: full.token,
      headers: { 'Mcp-Session-Id': session },
    });
    assert.equal(mine.status, 200);
    // Without any token the session id alone is worth nothing.
    const anonymous = await post(server, ping, { headers: { 'Mcp-Session-Id': session } });
    assert.equal(anonymous.status, 401);
  });

  test('health and metrics need no token; failures are counted', async () => {
    assert.equal((await fetch(`${server.origin}/live`)).status, 200);
    const ready = await fetch(`${server.origin}/ready`);
    assert.equal(ready.status, 200);
    assert.equal((await ready.json()).checks.storage, 'ok');
    const metrics = await (await fetch(`${server.origin}/metrics`)).text();
    assert.match(metrics, /mcp_auth_failures_total\{reason="missing"\} [1-9]/);
    assert.match(metrics, /mcp_auth_failures_total\{reason="malformed"\} [1-9]/);
    assert.match(metrics, /mcp_requests_total [1-9]/);
    assert.ok(!metrics.includes(full.token), 'no secret in metrics');
    assert.ok(!server.log.includes(full.token), 'no secret in the log');
  });
});

describe('rate limiting', () => {
  let db;
  let server;
  let token;
  before(async () => {
    ({ db, token } = Database.withToken());
    server = await startServer({
      database: db,
      env: { RATE_LIMIT_REQUESTS: '5', RATE_LIMIT_WINDOW: '2' },
    });
  });
  after(async () => {
    await server.stop();
    db.remove();
  });

  test('429 with Retry-After past the budget of tool calls, then recovery', async () => {
    const session = await openSession(server, { token });
    const options = { token, headers: { 'Mcp-Session-Id': session } };
    const call = {
      jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'm' } },
    };
    let limited;
    for (let i = 0; i < 10 && !limited; i++) {
      const response = await post(server, call, options);
      if (response.status === 429) limited = response;
      else assert.equal(response.status, 200);
    }
    assert.ok(limited, 'the limit was reached');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1, `Retry-After: ${retryAfter}`);
    // Health checks and pings are never limited.
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${server.origin}/live`)).status, 200);
    assert.equal((await post(server, ping, options)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 200));
    assert.equal((await post(server, call, options)).status, 200);
  });

  test('repeated authentication failures from one address get 429', async () => {
    assert.equal((await post(server, initializeRequest(), { token })).status, 200);
    let limited = false;
    for (let i = 0; i < 30 && !limited; i++) {
      const response = await post(server, ping, { token: 'mcpd_wrong' });
      limited = response.status === 429;
      if (!limited) assert.equal(response.status, 401);
    }
    assert.ok(limited, 'failed attempts are limited');
    // A good token that must be looked up waits too now (no lookup for a limited address) ...
    const fresh = db.createToken({ name: 'fresh' }).token;
    assert.equal((await post(server, initializeRequest(), { token: fresh })).status, 429);
    // ... but one the auth cache has just checked is served: behind a proxy one address is
    // many clients, and a guessing one must not lock out the others.
    assert.equal((await post(server, initializeRequest(), { token })).status, 200);
  });
});
