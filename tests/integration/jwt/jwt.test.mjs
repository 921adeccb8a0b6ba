// JWT bearer authentication through the real binary: tokens signed here with node:crypto
// (HS256), checked by `mcpd serve --http` configured with auth.jwt, side by side with opaque
// tokens from the real CLI; revoked jtis (`mcpd token revoke-jti`), the RFC 9728 metadata
// document and the 401 challenge that points to it; and MCPD_TOKEN as a JWT on stdio.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  Database,
  connectStreamable,
  initializeRequest,
  mcpdBinary,
  post,
  startServer,
  tempDir,
  toolsDir,
  waitFor,
} from '../http/helpers.mjs';

const secret = 'integration-test-secret-of-at-least-32-bytes';
const issuer = 'https://auth.example.com';
const audience = 'https://mcp.example.com/mcp';

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function sign(payload, { header = { alg: 'HS256', typ: 'JWT' }, key = secret } = {}) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

let serial = 0;
function jwt(extra = {}, options) {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    { iss: issuer, aud: audience, sub: 'ada@example.com', iat: now, exp: now + 600, jti: `jti-${++serial}`, ...extra },
    options,
  );
}

function configFile(jwtSettings) {
  const file = path.join(tempDir(), 'mcpd.json');
  writeFileSync(file, JSON.stringify({ auth: { jwt: jwtSettings } }));
  return file;
}

// Each request from its own client address (X-Forwarded-For is honoured from a loopback
// peer), so the per-address limiter of failed attempts never answers 429 in these tests.
let client = 0;
function attempt(server, token) {
  client += 1;
  return post(server, initializeRequest(), {
    token,
    headers: { 'X-Forwarded-For': `10.9.${client >> 8}.${client & 255}` },
  });
}

async function authFailures(server, reason) {
  const text = await (await fetch(`${server.origin}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`mcp_auth_failures_total{reason="${reason}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('JWT authentication over HTTP', () => {
  let db;
  let server;
  before(async () => {
    db = new Database();
    db.addUser('ada@example.com');
    db.addUser('bob@example.com');
    server = await startServer({
      database: db,
      args: ['--config', configFile({ issuer, audience })],
      env: { JWT_SECRET: secret },
    });
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, server.log);
    db.remove();
  });

  test('a JWT with a tools claim sees and calls only those tools', async () => {
    const { client, close } = await connectStreamable(server, { token: jwt({ tools: ['echo'] }) });
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name), ['echo']);
      const result = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
      assert.notEqual(result.isError, true, JSON.stringify(result));
      await assert.rejects(client.callTool({ name: 'secret', arguments: {} }));
    } finally {
      await close();
    }
    // Without a tools claim: every tool.
    const all = await connectStreamable(server, { token: jwt() });
    try {
      const { tools } = await all.client.listTools();
      assert.ok(tools.length > 1);
      assert.ok(tools.some((t) => t.name === 'secret'));
    } finally {
      await all.close();
    }
  });

  test('an opaque token works side by side', async () => {
    const opaque = db.createToken({ name: 'opaque', tools: ['secret'] });
    const { client, close } = await connectStreamable(server, { token: opaque.token });
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name), ['secret']);
    } finally {
      await close();
    }
  });

  test('the 401 challenge points to the resource metadata', async () => {
    const missing = await post(server, initializeRequest());
    assert.equal(missing.status, 401);
    assert.equal(
      missing.headers.get('www-authenticate'),
      'Bearer realm="mcpd", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"',
    );
    const bad = await attempt(server, jwt({ exp: 1000 }));
    assert.equal(bad.status, 401);
    assert.equal(
      bad.headers.get('www-authenticate'),
      'Bearer realm="mcpd", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", error="invalid_token"',
    );
  });

  test('the RFC 9728 document is served without authentication', async () => {
    for (const suffix of ['', '/mcp']) {
      const response = await fetch(`${server.origin}/.well-known/oauth-protected-resource${suffix}`);
      assert.equal(response.status, 200, suffix);
      assert.match(response.headers.get('content-type'), /application\/json/);
      const document = await response.json();
      assert.equal(document.resource, audience);
      assert.deepEqual(document.authorization_servers, [issuer]);
      assert.deepEqual(document.bearer_methods_supported, ['header']);
      assert.equal(typeof document.resource_name, 'string');
    }
    const other = await fetch(`${server.origin}/.well-known/oauth-protected-resource/elsewhere`);
    assert.equal(other.status, 404);
    const wrongMethod = await fetch(`${server.origin}/.well-known/oauth-protected-resource`, { method: 'POST' });
    assert.equal(wrongMethod.status, 405);
  });

  test('every refusal is a 401 counted under its reason', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      ['jwt_expired', jwt({ exp: now - 10 })],
      ['jwt_not_yet_valid', jwt({ nbf: now + 600 })],
      ['jwt_issuer', jwt({ iss: 'https://evil.example.com' })],
      ['jwt_audience', jwt({ aud: ['https://other.example.com'] })],
      ['jwt_signature', jwt({}, { key: `${secret}-not` })],
      ['jwt_alg', `${b64({ alg: 'none' })}.${b64({ sub: 'ada@example.com', exp: now + 600 })}.`],
      ['jwt_claims', jwt({ sub: undefined })],
      ['jwt_malformed', `${jwt()}.extra`],
    ];
    for (const [reason, token] of cases) {
      const before = await authFailures(server, reason);
      const response = await attempt(server, token);
      assert.equal(response.status, 401, reason);
      assert.equal(await authFailures(server, reason), before + 1, reason);
    }
  });

  test('a revoked jti is refused within 5 seconds', async () => {
    const token = jwt({ jti: 'revoke-me' });
    assert.equal((await attempt(server, token)).status, 200);
    const revoked = JSON.parse(
      db.mcpd('token', 'revoke-jti', 'revoke-me', '--expires-at', '2099-01-01T00:00:00Z', '--json'),
    );
    assert.equal(revoked.jti, 'revoke-me');
    assert.equal(revoked.expires_at, '2099-01-01T00:00:00Z');
    // A bad time is a usage mistake the CLI explains (exit 1), and nothing is revoked by it.
    assert.throws(
      () => db.mcpd('token', 'revoke-jti', 'other', '--expires-at', '2099-02-30'),
      (e) => e.status === 1 && /--expires-at: expected an ISO-8601/.test(e.stderr),
    );
    const start = Date.now();
    await waitFor(async () => (await attempt(server, token)).status === 401, {
      ms: 5000,
      what: 'the revoked jti to be refused',
    });
    assert.ok(Date.now() - start <= 5000);
    // Other JWTs of the same user still work.
    assert.equal((await attempt(server, jwt())).status, 200);
  });

  test('a JWT naming a disabled user is refused', async () => {
    const token = jwt({ sub: 'bob@example.com' });
    assert.equal((await attempt(server, token)).status, 200);
    db.mcpd('user', 'disable', 'bob@example.com');
    await waitFor(async () => (await attempt(server, token)).status === 401, {
      ms: 5000,
      what: 'the disabled user to be refused',
    });
    // A subject with no account needs none.
    assert.equal((await attempt(server, jwt({ sub: 'svc@example.com' }))).status, 200);
  });
});

describe('JWT with a non-URL audience', () => {
  let db;
  let server;
  before(async () => {
    db = new Database();
    server = await startServer({
      database: db,
      args: ['--config', configFile({ audience: 'mcpd-api' })],
      env: { JWT_SECRET: secret },
    });
  });
  after(async () => {
    await server.stop();
    db.remove();
  });

  test('the resource is derived from the request', async () => {
    const response = await post(server, initializeRequest());
    assert.equal(
      response.headers.get('www-authenticate'),
      `Bearer realm="mcpd", resource_metadata="${server.origin}/.well-known/oauth-protected-resource/mcp"`,
    );
    const document = await (await fetch(`${server.origin}/.well-known/oauth-protected-resource/mcp`)).json();
    assert.equal(document.resource, server.url);
    assert.equal(document.authorization_servers, undefined);  // no issuer configured
    const token = sign({ sub: 'x@example.com', aud: 'mcpd-api', exp: Math.floor(Date.now() / 1000) + 60 });
    assert.equal((await attempt(server, token)).status, 200);
  });
});

describe('RS256 with a PEM public key file', () => {
  test('tokens signed with the private key pass; HS256 with the public key does not', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dir = tempDir();
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    writeFileSync(path.join(dir, 'jwt.pem'), pem);
    const db = new Database();
    const server = await startServer({
      database: db,
      args: ['--config', configFile({ algorithm: 'RS256', public_key_file: path.join(dir, 'jwt.pem') })],
    });
    try {
      const payload = { sub: 'rs@example.com', exp: Math.floor(Date.now() / 1000) + 60 };
      const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(payload)}`;
      const signature = createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
      assert.equal((await attempt(server, `${input}.${signature}`)).status, 200);
      // The key-confusion attack: HMAC keyed with the public key's PEM.
      assert.equal((await attempt(server, sign(payload, { key: pem }))).status, 401);
      assert.equal(await authFailures(server, 'jwt_alg'), 1);
    } finally {
      await server.stop();
      db.remove();
    }
  });

  test('an unusable key file stops startup', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'bad.pem'), 'not a key\n');
    const db = new Database();
    const result = spawnSync(
      mcpdBinary(),
      ['serve', '--http', '--listen', '127.0.0.1:0', '--config',
        configFile({ algorithm: 'RS256', public_key_file: path.join(dir, 'bad.pem') }),
        '--database', db.url],
      { env: { PATH: process.env.PATH }, encoding: 'utf8' },
    );
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /auth\.jwt\.public_key_file: not a PEM RSA public key/);
    db.remove();
  });
});

describe('without JWT configured', () => {
  let db;
  let server;
  before(async () => {
    db = new Database();
    server = await startServer({ database: db });
  });
  after(async () => {
    await server.stop();
    db.remove();
  });

  test('JWTs are refused and no metadata is offered', async () => {
    const before = await authFailures(server, 'jwt_disabled');
    const response = await attempt(server, jwt());
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="mcpd", error="invalid_token"');
    assert.equal(await authFailures(server, 'jwt_disabled'), before + 1);
    assert.equal((await fetch(`${server.origin}/.well-known/oauth-protected-resource`)).status, 404);
  });
});

describe('MCPD_TOKEN as a JWT on stdio', () => {
  test('the session runs with the JWT tools claim', async () => {
    const db = new Database();
    const child = spawn(mcpdBinary(), ['serve', '--stdio', '--tools', toolsDir, '--database', db.url], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME ?? '/tmp',
        JWT_SECRET: secret,
        MCPD_TOKEN: sign({ sub: 'ada@example.com', tools: ['echo'], exp: Math.floor(Date.now() / 1000) + 600 }),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const send = (m) => child.stdin.write(`${JSON.stringify(m)}\n`);
    send(initializeRequest());
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const reply = await waitFor(() => out.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((m) => m.id === 2), {
      what: `tools/list on stdio (stderr: ${err})`,
    });
    assert.deepEqual(reply.result.tools.map((t) => t.name), ['echo']);
    child.stdin.end();
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, err);
    db.remove();
  });

  test('an invalid JWT stops startup with a clear message', async () => {
    const db = new Database();
    const child = spawn(mcpdBinary(), ['serve', '--stdio', '--tools', toolsDir, '--database', db.url], {
      env: { PATH: process.env.PATH, JWT_SECRET: secret, MCPD_TOKEN: sign({ sub: 'a@example.com', exp: 1000 }) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.match(err, /MCPD_TOKEN: JWT expired/);
    db.remove();
  });
});
