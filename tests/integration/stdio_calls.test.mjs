// Long-running calls over stdio: a timeout, cancellation through the SDK's AbortSignal (the
// child process is killed), and ping answered while a slow tool runs.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { connect, processGone, readPid, removeDir, tempDir, textOf, waitFor } from './stdio_helpers.mjs';

let server;
let dir;

before(async () => {
  server = await connect();
  dir = tempDir();
});

after(async () => {
  await server?.close();
  removeDir(dir);
});

test('a tool that exceeds its timeout_ms is a tool error and its process is gone', async () => {
  const pidFile = path.join(dir, 'timeout.pid');
  const result = await server.client.callTool({ name: 'slow_timeout', arguments: { pid_file: pidFile } });
  assert.equal(result.isError, true);
  assert.match(textOf(result), /timed out/);
  const pid = await readPid(pidFile);
  await waitFor(() => processGone(pid), { what: `process ${pid} to end` });
});

test('cancelling through an AbortSignal kills the tool process', async () => {
  const pidFile = path.join(dir, 'cancel.pid');
  const controller = new AbortController();
  const call = server.client.callTool(
    { name: 'slow', arguments: { pid_file: pidFile, seconds: 120 } },
    undefined,
    { signal: controller.signal, timeout: 300000 },
  );
  const pid = await readPid(pidFile);
  assert.equal(processGone(pid), false, 'the tool runs');
  controller.abort('the test cancels');
  await assert.rejects(call);
  await waitFor(() => processGone(pid), { what: `process ${pid} to be killed` });
  // The session is still usable.
  assert.deepEqual(await server.client.ping(), {});
});

test('ping is answered while a slow tool runs', async () => {
  const pidFile = path.join(dir, 'ping.pid');
  const controller = new AbortController();
  let settled = false;
  const call = server.client
    .callTool({ name: 'slow', arguments: { pid_file: pidFile, seconds: 120 } }, undefined, {
      signal: controller.signal,
      timeout: 300000,
    })
    .finally(() => {
      settled = true;
    });
  const pid = await readPid(pidFile);
  for (let i = 0; i < 3; ++i) assert.deepEqual(await server.client.ping(), {});
  assert.equal(settled, false, 'the slow call is still running while pings are answered');
  controller.abort();
  await assert.rejects(call);
  await waitFor(() => processGone(pid), { what: `process ${pid} to be killed` });
});

test('several slow calls run at the same time', async () => {
  const controllers = [new AbortController(), new AbortController()];
  const pidFiles = [path.join(dir, 'a.pid'), path.join(dir, 'b.pid')];
  const calls = controllers.map((c, i) =>
    server.client.callTool({ name: 'slow', arguments: { pid_file: pidFiles[i], seconds: 120 } }, undefined, {
      signal: c.signal,
      timeout: 300000,
    }),
  );
  // Both pid files exist only if both tools run concurrently (each sleeps two minutes).
  const pids = await Promise.all(pidFiles.map((f) => readPid(f)));
  assert.notEqual(pids[0], pids[1]);
  controllers.forEach((c) => c.abort());
  await Promise.allSettled(calls);
  for (const pid of pids) await waitFor(() => processGone(pid), { what: `process ${pid} to be killed` });
});
