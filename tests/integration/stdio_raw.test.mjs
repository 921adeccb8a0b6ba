// mcpd serve --stdio as a raw child process: bytes the SDK would never send, end of input,
// signals, startup errors, and the promise that stdout carries nothing but JSON-RPC.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openSync, closeSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

import {
  RawServer,
  examplesDir,
  mcpdBinary,
  processGone,
  readPid,
  removeDir,
  serverEnv,
  tempDir,
  toolsDir,
  waitFor,
} from './stdio_helpers.mjs';

const dir = tempDir();
after(() => removeDir(dir));

// Every stdout line must be one JSON-RPC 2.0 message.
function assertOnlyJsonRpc(lines) {
  for (const line of lines) {
    let message;
    assert.doesNotThrow(() => {
      message = JSON.parse(line);
    }, `stdout line is not JSON: ${line}`);
    assert.equal(message.jsonrpc, '2.0', `not JSON-RPC: ${line}`);
    assert.ok('id' in message || 'method' in message, `neither response nor notification: ${line}`);
  }
}

async function withServer(body, options) {
  const server = new RawServer(options);
  try {
    return await body(server);
  } finally {
    server.kill();
  }
}

test('not JSON -> -32700, and the server keeps serving', () =>
  withServer(async (s) => {
    await s.initialize();
    s.sendRaw('{"jsonrpc": "2.0", "id": 1, "method": \n');
    const error = await s.waitForMessage((m) => m.error?.code === -32700, 'a parse error');
    assert.equal(error.id, null);
    s.request(2, 'ping');
    assert.deepEqual((await s.response(2)).result, {});
  }));

test('invalid UTF-8 -> -32700, and the server keeps serving', () =>
  withServer(async (s) => {
    await s.initialize();
    s.child.stdin.write(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d, 0x0a])); // {"\xff\xfe":1}
    await s.waitForMessage((m) => m.error?.code === -32700, 'a parse error');
    s.request(2, 'ping');
    assert.deepEqual((await s.response(2)).result, {});
  }));

test('invalid request -> -32600, and the server keeps serving', () =>
  withServer(async (s) => {
    await s.initialize();
    s.send({ jsonrpc: '2.0', id: 5, method: 42 });
    assert.equal((await s.response(5)).error.code, -32600);
    s.send({ jsonrpc: '1.0', id: 6, method: 'ping' });
    assert.equal((await s.response(6)).error.code, -32600);
    s.request(7, 'ping');
    assert.deepEqual((await s.response(7)).result, {});
  }));

test('unknown method -> -32601, and the server keeps serving', () =>
  withServer(async (s) => {
    await s.initialize();
    s.request(3, 'tools/explode', {});
    const reply = await s.response(3);
    assert.equal(reply.error.code, -32601);
    s.request(4, 'ping');
    assert.deepEqual((await s.response(4)).result, {});
  }));

test('bad params -> -32602, and the server keeps serving', () =>
  withServer(async (s) => {
    await s.initialize();
    s.request(3, 'tools/call', { arguments: {} }); // no name
    assert.equal((await s.response(3)).error.code, -32602);
    s.request(4, 'prompts/get', { name: 17 });
    assert.equal((await s.response(4)).error.code, -32602);
    s.request(5, 'ping');
    assert.deepEqual((await s.response(5)).result, {});
  }));

test('a line over the size limit -> -32600, skipped up to its newline', () =>
  withServer(async (s) => {
    await s.initialize();
    const pad = 'x'.repeat(5 * 1024 * 1024);
    s.sendRaw(`{"jsonrpc":"2.0","id":9,"method":"ping","params":{"pad":"${pad}"}}\n`);
    const refused = await s.waitForMessage((m) => m.error?.code === -32600, 'an oversize error');
    assert.equal(refused.id, null);
    s.request(10, 'ping');
    assert.deepEqual((await s.response(10)).result, {});
    assert.equal(s.messages().some((m) => m.id === 9), false, 'the oversized request was not served');
  }));

test('EOF with a request in flight: it is answered and mcpd exits 0', () =>
  withServer(async (s) => {
    await s.initialize();
    s.request(1, 'tools/call', {
      name: 'slow',
      arguments: { pid_file: path.join(dir, 'eof.pid'), seconds: 0.5 },
    });
    const { code, signal } = await s.close();
    assert.equal(signal, null);
    assert.equal(code, 0, s.stderr);
    const reply = s.messages().find((m) => m.id === 1);
    assert.ok(reply, `the in-flight call was answered; stderr:\n${s.stderr}`);
    assert.notEqual(reply.result.isError, true, JSON.stringify(reply));
  }));

test('EOF: a call still running after the grace period is cancelled, its process killed, exit 0', () =>
  withServer(async (s) => {
    await s.initialize();
    const pidFile = path.join(dir, 'grace.pid');
    s.request(1, 'tools/call', { name: 'slow', arguments: { pid_file: pidFile, seconds: 300 } });
    const pid = await readPid(pidFile);
    const { code } = await s.close();
    assert.equal(code, 0, s.stderr);
    await waitFor(() => processGone(pid), { what: `process ${pid} to be killed` });
  }));

test('SIGTERM shuts down cleanly with exit 0', () =>
  withServer(async (s) => {
    await s.initialize();
    s.child.kill('SIGTERM');
    const { code, signal } = await s.exited;
    assert.equal(signal, null);
    assert.equal(code, 0, s.stderr);
  }));

test('stdout carries only JSON-RPC, logs go to stderr', () =>
  withServer(
    async (s) => {
      await s.initialize();
      s.request(1, 'tools/list');
      s.request(2, 'tools/call', { name: 'exec_text', arguments: { message: 'hello' } });
      s.request(3, 'tools/call', { name: 'exec_fail', arguments: {} });
      s.request(4, 'tools/call', {
        name: 'exec_progress',
        arguments: { steps: 2 },
        _meta: { progressToken: 'tok' },
      });
      s.sendRaw('garbage\n');
      s.request(5, 'nonsense');
      for (const id of [1, 2, 3, 4, 5]) await s.response(id);
      const { code } = await s.close();
      assert.equal(code, 0);
      assert.equal(s.stdout, '', 'no partial line left on stdout');
      assertOnlyJsonRpc(s.lines);
      assert.ok(s.messages().some((m) => m.method === 'notifications/progress'));
      // With LOG_FORMAT=json every stderr line is a JSON log object.
      const logLines = s.stderr.split('\n').filter((l) => l.length > 0);
      assert.ok(logLines.length > 0, 'something was logged');
      for (const line of logLines) {
        const entry = JSON.parse(line);
        for (const field of ['timestamp', 'level', 'logger', 'message', 'service', 'version', 'environment'])
          assert.ok(field in entry, `log field ${field} in ${line}`);
        assert.ok('correlation_id' in entry);
        assert.equal(entry.service, 'mcpd');
      }
    },
    { env: { LOG_FORMAT: 'json' } },
  ));

test('a regular file as stdin: the example session replays and exits 0', () => {
  const input = openSync(path.join(examplesDir, 'session.jsonl'), 'r');
  try {
    const run = spawnSync(mcpdBinary(), ['serve', '--stdio', '--tools', path.join(examplesDir, 'tools')], {
      env: serverEnv({ LOG_LEVEL: 'info' }),
      stdio: [input, 'pipe', 'pipe'],
      timeout: 60000,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.split('\n').filter((l) => l.length > 0);
    assertOnlyJsonRpc(lines);
    const byId = new Map(lines.map((l) => JSON.parse(l)).filter((m) => 'id' in m).map((m) => [m.id, m]));
    for (let id = 1; id <= 10; ++id) {
      assert.ok(byId.has(id), `response ${id}`);
      assert.ok(byId.get(id).result, `response ${id} is a result: ${JSON.stringify(byId.get(id))}`);
      assert.notEqual(byId.get(id).result.isError, true, `call ${id}: ${JSON.stringify(byId.get(id))}`);
    }
    assert.equal(byId.get(3).result.structuredContent.greeting, 'Hello, Ada!');
    assert.match(byId.get(4).result.content[0].text, /9 word/);
    assert.ok(byId.get(5).result.structuredContent.size_kb > 0);
    assert.match(byId.get(6).result.content[0].text, /Liftoff/);
    assert.deepEqual(byId.get(8).result.completion.values, ['java', 'javascript']);
  } finally {
    closeSync(input);
  }
});

test('--stdio and --http together, or neither: usage error, exit 2', () => {
  for (const args of [['serve', '--stdio', '--http'], ['serve']]) {
    const run = spawnSync(mcpdBinary(), args, { env: serverEnv(), encoding: 'utf8', timeout: 30000 });
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /^mcpd: error: /m);
    assert.equal(run.stdout, '');
  }
});

test('a descriptor error stops startup with file:line:col diagnostics, exit 1', () => {
  const bad = path.join(dir, 'bad-tools');
  mkdirSync(bad, { recursive: true });
  writeFileSync(path.join(bad, 'broken.json'), '{\n  "tools": [\n    {"name": "x", "colour": 1}\n  ]\n}\n');
  const run = spawnSync(mcpdBinary(), ['serve', '--stdio', '--tools', bad], {
    env: serverEnv(),
    input: '',
    encoding: 'utf8',
    timeout: 30000,
  });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /broken\.json:\d+:\d+: error: .+ \[[a-z-]+\]/);
  assert.match(run.stderr, /^mcpd: error: /m);
  assert.equal(run.stdout, '');
});

test('an invalid setting stops startup naming it, exit 1', () => {
  const config = path.join(dir, 'mcpd.json');
  writeFileSync(config, JSON.stringify({ rate_limit: { requests: 'many' } }));
  const run = spawnSync(mcpdBinary(), ['serve', '--stdio', '--config', config], {
    env: serverEnv(),
    input: '',
    encoding: 'utf8',
    timeout: 30000,
  });
  assert.equal(run.status, 1);
  assert.equal(run.stderr, `mcpd: error: config ${config}: rate_limit.requests: expected a positive integer\n`);
  const env = spawnSync(mcpdBinary(), ['serve', '--stdio', '--tools', toolsDir], {
    env: serverEnv({ LOG_LEVEL: 'chatty' }),
    input: '',
    encoding: 'utf8',
    timeout: 30000,
  });
  assert.equal(env.status, 1);
  assert.match(env.stderr, /^mcpd: error: LOG_LEVEL: /);
});

test('no tools path: an empty catalog and a warning', () =>
  withServer(
    async (s) => {
      await s.initialize();
      s.request(1, 'tools/list');
      assert.deepEqual((await s.response(1)).result.tools, []);
      const { code } = await s.close();
      assert.equal(code, 0);
      assert.match(s.stderr, /no tools path/);
    },
    { args: [] },
  ));
