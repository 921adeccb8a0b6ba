// Exec handler faults through the real `mcpd serve --http`: a child that floods stdout, children
// that outlive it (background, double-fork, holding stdout open), and one that ignores SIGTERM
// and is timed out or cancelled. Each call is answered in time with a clear tool error or its
// output, and nothing is left behind: no process carrying the call's marker in its command line
// (/proc), no zombie children of mcpd.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { connectStreamable, mcpHeaders, openSession, startServer, waitFor } from '../http/helpers.mjs';
import { modernCall, processesWith, sleep, toolsDir, zombiesOf } from './helpers.mjs';

const text = (result) => (result.content ?? []).map((block) => block.text ?? '').join('');

describe('exec faults', () => {
  let server;
  let session;
  let serial = 0;
  const marker = (kind) => `mcpdfault-${process.pid}-${kind}-${++serial}`;

  before(async () => {
    server = await startServer({ tools: toolsDir });
    session = await connectStreamable(server);
  });

  after(async () => {
    await session?.close();
    await server?.stop();
  });

  const call = (name, args, options) => session.client.callTool({ name, arguments: args }, undefined, options);

  // Nothing with the marker survives (a short wait: SIGKILL delivery and exit are not instant).
  async function assertGone(mark) {
    await waitFor(() => processesWith(mark).length === 0, { ms: 10000, what: `processes with ${mark} to end` });
    assert.deepEqual(zombiesOf(server.proc.pid), [], 'zombie children of mcpd');
  }

  async function timed(promise) {
    const started = Date.now();
    const value = await promise;
    return { value, ms: Date.now() - started };
  }

  test('a child flooding stdout is stopped at the output cap', async () => {
    const mark = marker('flood');
    const { value: result, ms } = await timed(call('flood', { marker: mark }));
    assert.equal(result.isError, true);
    assert.equal(text(result), 'output exceeds 65536 bytes');
    assert.ok(ms < 10000, `answered in ${ms} ms`);
    await assertGone(mark);
  });

  test('a child flooding stderr: the error carries its last words, memory stays bounded', async () => {
    const mark = marker('stderr');
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))[1]);
    const before = rss();
    const { value: result, ms } = await timed(call('flood_stderr', { marker: mark }));
    assert.equal(result.isError, true);
    assert.match(text(result), /^command exited with status 3: .*last words$/s);
    assert.ok(text(result).length < 4096, `the error is short (${text(result).length} chars)`);
    assert.ok(ms < 15000, `answered in ${ms} ms`);
    const grown = rss() - before;
    assert.ok(grown < 64 * 1024, `mcpd grew by ${grown} KiB while the child wrote to stderr`);
    await assertGone(mark);
  });

  test('a background child with its output closed ends with the call', async () => {
    const mark = marker('orphan');
    const { value: result, ms } = await timed(call('orphan', { marker: mark }));
    assert.equal(result.isError, undefined, text(result));
    assert.equal(text(result), 'started\n');
    assert.ok(ms < 10000, `answered in ${ms} ms`);
    await assertGone(mark);
  });

  test('a double-fork daemon (still in the process group) ends with the call', async () => {
    const mark = marker('daemon');
    const result = await call('daemon', { marker: mark });
    assert.equal(text(result), 'started\n');
    await assertGone(mark);
  });

  test('a background child holding stdout open does not hold the answer', async () => {
    const mark = marker('holder');
    const { value: result, ms } = await timed(call('holder', { marker: mark }));
    assert.equal(text(result), 'started\n');
    assert.ok(ms < 10000, `answered in ${ms} ms (the child holds stdout for 300 s)`);
    await assertGone(mark);
  });

  test('a child ignoring SIGTERM is killed after its timeout and the grace period', async () => {
    const mark = marker('stubborn');
    const { value: result, ms } = await timed(call('stubborn', { marker: mark }));
    assert.equal(result.isError, true);
    assert.equal(text(result), 'timed out after 1000 ms');
    // 1 s timeout + 2 s SIGTERM grace, then SIGKILL; generous on a loaded machine.
    assert.ok(ms >= 1000 && ms < 15000, `answered in ${ms} ms`);
    await assertGone(mark);
  });

  test('a child ignoring SIGTERM is killed when the client cancels the call', async () => {
    const mark = marker('cancel');
    const controller = new AbortController();
    const started = Date.now();
    const pending = call('stubborn_long', { marker: mark }, { signal: controller.signal, timeout: 120000 });
    await waitFor(() => processesWith(mark).length >= 2, { what: 'the child and its sleep' });
    controller.abort();
    await assert.rejects(pending);
    await assertGone(mark);
    assert.ok(Date.now() - started < 30000, 'the group was killed long before the 60 s timeout');
  });

  test('a child ignoring SIGTERM is killed when the client goes away (connection closed)', async () => {
    for (const stateless of [true, false]) {
      const mark = marker(stateless ? 'gone-modern' : 'gone-legacy');
      const controller = new AbortController();
      let request;
      let headers = {};
      if (stateless) {
        request = modernCall('stubborn_long', { marker: mark });
      } else {
        const id = await openSession(server);
        request = modernCall('stubborn_long', { marker: mark });
        delete request.body.params._meta;
        headers = { 'Mcp-Session-Id': id, 'MCP-Protocol-Version': '2025-11-25' };
      }
      const pending = fetch(server.url, {
        method: 'POST',
        headers: { ...mcpHeaders, ...request.headers, ...headers },
        body: JSON.stringify(request.body),
        signal: controller.signal,
      }).then((r) => r.text());
      await waitFor(() => processesWith(mark).length >= 2, { what: 'the child and its sleep' });
      controller.abort();
      await assert.rejects(pending);
      await assertGone(mark);
    }
  });

  test('many faulty calls at once: all answered, nothing left, the server still serves', async () => {
    const marks = [];
    const calls = [];
    for (let i = 0; i < 4; i++) {
      for (const tool of ['flood', 'orphan', 'daemon', 'stubborn']) {
        const mark = marker(`mix-${tool}`);
        marks.push(mark);
        calls.push(call(tool, { marker: mark }, { timeout: 60000 }));
      }
    }
    const results = await Promise.all(calls);
    assert.equal(results.length, 16);
    for (const mark of marks) await assertGone(mark);
    await sleep(100);
    const ok = await call('hello', { who: 'still here' });
    assert.equal(text(ok), 'hello still here');
  });
});
