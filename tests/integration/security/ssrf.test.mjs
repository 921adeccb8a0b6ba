// The SSRF guard of http handlers (upstream.deny / upstream.allow): the real `mcpd serve
// --stdio` calling upstreams whose addresses are refused, allowed, or lifted, checked on the
// address a name resolves to, with redirects never followed.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { connectStdio, runMcpd, startRecorder, tempDir, text, writeJson } from './helpers.mjs';

// One http tool per upstream name, GET /items/{id}/.
function writeSetup(dir, upstreams, guard) {
  const tools = Object.keys(upstreams).map((name) => ({
    name: `get_${name}`,
    description: `Read an item from upstream ${name}.`,
    inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    handler: { http: { upstream: name, method: 'GET', path: '/items/{id}/' } },
  }));
  const descriptors = writeJson(path.join(dir, 'tools.json'), { tools });
  const config = { upstreams: {} };
  for (const [name, baseUrl] of Object.entries(upstreams))
    config.upstreams[name] = { base_url: baseUrl, timeout_ms: 20000, max_retries: 3 };
  if (guard) config.upstream = guard;
  return { descriptors, config: writeJson(path.join(dir, 'mcpd.json'), config) };
}

async function serve(dir, upstreams, { guard, env = {} } = {}) {
  const { descriptors, config } = writeSetup(dir, upstreams, guard);
  return connectStdio({ args: ['--tools', descriptors, '--config', config], env });
}

async function timedCall(session, name, id = '7') {
  const started = Date.now();
  const result = await session.client.callTool({ name, arguments: { id } });
  return { result, ms: Date.now() - started };
}

describe('default rules', () => {
  let dir;
  let recorder;
  let session;

  before(async () => {
    dir = tempDir();
    recorder = await startRecorder((req, res) => {
      if (req.url.startsWith('/items/redirect/')) {
        res.writeHead(302, { Location: 'http://169.254.169.254/latest/meta-data/' });
        return res.end();
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
    session = await serve(dir, {
      metadata: 'http://169.254.169.254',
      mapped: 'http://[::ffff:169.254.169.254]:80',
      ec2v6: 'http://[fd00:ec2::254]',
      unspecified: `http://0.0.0.0:${recorder.port}`,
      local: recorder.url,
    });
  });

  after(async () => {
    await session?.close();
    await recorder?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the cloud metadata address is refused at once, naming the rule, without retries', async () => {
    const { result, ms } = await timedCall(session, 'get_metadata');
    assert.equal(result.isError, true);
    assert.match(text(result), /upstream 'metadata' refused: address 169\.254\.169\.254 is in upstream\.deny 169\.254\.0\.0\/16/);
    // Never tried: a connect to a black-holed address would take the 20 s timeout, retried 3x.
    assert.ok(ms < 5000, `took ${ms} ms`);
    assert.match(session.stderr(), /upstream 'metadata': every call will be refused/);
  });

  test('an IPv4-mapped IPv6 metadata address is the same address', async () => {
    const { result, ms } = await timedCall(session, 'get_mapped');
    assert.equal(result.isError, true);
    assert.match(text(result), /refused: address ::ffff:169\.254\.169\.254 is in upstream\.deny 169\.254\.0\.0\/16/);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  test("EC2's IPv6 metadata address and the unspecified address are refused", async () => {
    const v6 = await timedCall(session, 'get_ec2v6');
    assert.equal(v6.result.isError, true);
    assert.match(text(v6.result), /fd00:ec2::254 is in upstream\.deny fd00:ec2::254\/128/);
    // 0.0.0.0 would reach this host's listener: refused, and the recorder sees nothing.
    const before = recorder.requests.length;
    const zero = await timedCall(session, 'get_unspecified');
    assert.equal(zero.result.isError, true);
    assert.match(text(zero.result), /0\.0\.0\.0 is in upstream\.deny 0\.0\.0\.0\/8/);
    assert.equal(recorder.requests.length, before);
  });

  test('a loopback upstream is allowed by default', async () => {
    const { result } = await timedCall(session, 'get_local', '42');
    assert.equal(result.isError, undefined, text(result));
    assert.equal(result.structuredContent.path, '/items/42/');
  });

  test('a redirect is not followed, so it cannot lead to a refused address', async () => {
    const before = recorder.requests.length;
    const { result } = await timedCall(session, 'get_local', 'redirect');
    assert.equal(result.isError, true);
    assert.match(text(result), /answered 302 .*redirects are not followed/);
    assert.equal(recorder.requests.length, before + 1);
  });
});

describe('configured rules', () => {
  let dir;
  let recorder;

  before(async () => {
    dir = tempDir();
    recorder = await startRecorder();
  });

  after(async () => {
    await recorder?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('upstream.deny 127.0.0.0/8 refuses loopback, after resolving the name', async () => {
    // "localhost" is a name: the guard sees the addresses it resolves to.
    const session = await serve(
      dir,
      { local: `http://localhost:${recorder.port}` },
      { guard: { deny: ['127.0.0.0/8', '::1'] } },
    );
    try {
      const { result, ms } = await timedCall(session, 'get_local');
      assert.equal(result.isError, true);
      assert.match(text(result), /upstream 'local' refused: address (127\.0\.0\.1|::1) is in upstream\.deny (127\.0\.0\.0\/8|::1)/);
      assert.ok(ms < 5000, `took ${ms} ms`);
      assert.equal(recorder.requests.length, 0);
    } finally {
      await session.close();
    }
  });

  test('MCPD_UPSTREAM_DENY does the same from the environment', async () => {
    const session = await serve(dir, { local: recorder.url }, { env: { MCPD_UPSTREAM_DENY: '10.0.0.0/8, 127.0.0.0/8' } });
    try {
      const { result } = await timedCall(session, 'get_local');
      assert.equal(result.isError, true);
      assert.match(text(result), /127\.0\.0\.1 is in upstream\.deny 127\.0\.0\.0\/8/);
      assert.equal(recorder.requests.length, 0);
    } finally {
      await session.close();
    }
  });

  test('upstream.allow lifts a refusal for one address', async () => {
    const session = await serve(
      dir,
      { local: recorder.url, metadata: 'http://169.254.169.254' },
      { guard: { deny: ['127.0.0.0/8'], allow: ['127.0.0.1'] } },
    );
    try {
      const { result } = await timedCall(session, 'get_local', '9');
      assert.equal(result.isError, undefined, text(result));
      assert.equal(result.structuredContent.path, '/items/9/');
      // The built-in rules still hold.
      const metadata = await timedCall(session, 'get_metadata');
      assert.equal(metadata.result.isError, true);
      assert.match(text(metadata.result), /169\.254\.0\.0\/16/);
    } finally {
      await session.close();
    }
  });

  test('a malformed range stops startup, naming the setting', () => {
    const { descriptors, config } = writeSetup(dir, { local: recorder.url }, { deny: ['10.0.0.0/33'] });
    const run = runMcpd(['serve', '--stdio', '--tools', descriptors, '--config', config]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /mcpd: error: upstream\.deny: '10\.0\.0\.0\/33': /);
    const plain = writeSetup(dir, { local: recorder.url });
    const env = runMcpd(['serve', '--stdio', '--tools', plain.descriptors, '--config', plain.config], {
      MCPD_UPSTREAM_ALLOW: 'example.com',
    });
    assert.equal(env.status, 1, env.stderr);
    assert.match(env.stderr, /mcpd: error: upstream\.allow: 'example\.com': /);
  });

  test('mcpd config show lists the built-in and configured rules with their origin', () => {
    const { config } = writeSetup(dir, { local: recorder.url }, { deny: ['10.0.0.0/8'] });
    const run = runMcpd(['config', 'show', '--config', config, '--json'], { MCPD_UPSTREAM_ALLOW: '10.1.0.0/16' });
    assert.equal(run.status, 0, run.stderr);
    const shown = JSON.parse(run.stdout);
    const deny = shown['upstream.deny'];
    assert.deepEqual(deny.value.slice(-1), ['10.0.0.0/8']); // after the built-in ranges
    for (const range of ['0.0.0.0/8', '169.254.0.0/16', '::/128', 'fe80::/10', 'fd00:ec2::254/128'])
      assert.ok(deny.value.includes(range), range);
    assert.equal(deny.origin, 'file');
    assert.deepEqual(shown['upstream.allow'], { value: ['10.1.0.0/16'], origin: 'env', source: 'MCPD_UPSTREAM_ALLOW' });
  });
});
