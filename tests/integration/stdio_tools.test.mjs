// Tools over stdio with the official SDK client: listing, and every handler kind and output
// mode available (static; exec text, json, mcp with progress and log notifications).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ListRootsRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

import { connect, textOf } from './stdio_helpers.mjs';

let server;
const logs = [];

before(async () => {
  // roots: the progress tool syncs with the client before its result (see progress.sh).
  server = await connect({ capabilities: { roots: {} } });
  server.client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [] }));
  server.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params);
  });
});

after(async () => {
  await server?.close();
});

test('initialize reports the server and its capabilities', () => {
  const info = server.client.getServerVersion();
  assert.equal(info.name, 'mcpd');
  const caps = server.client.getServerCapabilities();
  assert.ok(caps.tools, 'tools capability');
  assert.ok(caps.resources, 'resources capability');
  assert.ok(caps.prompts, 'prompts capability');
  assert.ok(caps.logging, 'logging capability');
});

test('tools/list shows every tool with its schema and annotations', async () => {
  const { tools } = await server.client.listTools();
  const names = tools.map((t) => t.name).sort();
  for (const expected of ['echo', 'exec_json', 'exec_progress', 'exec_text', 'slow', 'ask_client'])
    assert.ok(names.includes(expected), `missing ${expected} in ${names}`);
  const echo = tools.find((t) => t.name === 'echo');
  assert.equal(echo.title, 'Echo');
  assert.deepEqual(echo.inputSchema.required, ['message']);
  assert.equal(echo.annotations.readOnlyHint, true);
  assert.ok(echo.outputSchema, 'outputSchema is listed');
  assert.equal(echo.handler, undefined, 'the handler is not shown to clients');
});

test('static tool: text with placeholders and structuredContent', async () => {
  const result = await server.client.callTool({ name: 'echo', arguments: { message: 'hi there' } });
  assert.notEqual(result.isError, true);
  assert.equal(textOf(result), 'echo: hi there');
  assert.deepEqual(result.structuredContent, { echo: 'hi there' });
});

test('bad arguments are a tool error naming the field', async () => {
  const result = await server.client.callTool({ name: 'limited', arguments: { count: 99 } });
  assert.equal(result.isError, true);
  assert.match(textOf(result), /count/);
});

test('exec tool, text output: stdout is the answer; context in the environment', async () => {
  const result = await server.client.callTool({ name: 'exec_text', arguments: { message: 'a b; $(rm -rf /)' } });
  assert.notEqual(result.isError, true, textOf(result));
  // One argv element, never a shell: the text arrives verbatim.
  assert.match(textOf(result), /^args: a b; \$\(rm -rf \/\)$/m);
  assert.match(textOf(result), /^tool: exec_text$/m);
});

test('exec tool, json output: an object becomes structuredContent', async () => {
  const result = await server.client.callTool({ name: 'exec_json', arguments: { name: 'Ada' } });
  assert.notEqual(result.isError, true, textOf(result));
  assert.deepEqual(result.structuredContent, { name: 'Ada', count: 3, tool: 'exec_json' });
  assert.deepEqual(JSON.parse(textOf(result)), result.structuredContent);
});

test('exec tool, mcp output: progress reaches onprogress, logs reach the client', async () => {
  const progress = [];
  const before = logs.length;
  const result = await server.client.callTool(
    { name: 'exec_progress', arguments: { steps: 4, sync: true } },
    undefined,
    { onprogress: (p) => progress.push(p) },
  );
  assert.notEqual(result.isError, true, textOf(result));
  assert.equal(textOf(result), 'counted to 4');
  assert.deepEqual(result.structuredContent, { steps: 4 });
  assert.deepEqual(
    progress.map((p) => [p.progress, p.total, p.message]),
    [1, 2, 3, 4].map((i) => [i, 4, `step ${i} of 4`]),
  );
  const log = logs.slice(before).find((l) => l.logger === 'progress');
  assert.ok(log, `log notification received: ${JSON.stringify(logs)}`);
  assert.equal(log.level, 'info');
  assert.equal(log.data, 'counted to 4');
});

test('exec tool that fails: a tool error with the reason, not a protocol error', async () => {
  const result = await server.client.callTool({ name: 'exec_fail', arguments: {} });
  assert.equal(result.isError, true);
  assert.match(textOf(result), /status 3/);
  assert.match(textOf(result), /something went wrong/);
});

test('unknown tool is an error', async () => {
  await assert.rejects(
    server.client.callTool({ name: 'no_such_tool', arguments: {} }),
    (e) => e.code === -32602 || /no_such_tool/.test(e.message),
  );
});

test('the server keeps serving after all of the above', async () => {
  assert.deepEqual(await server.client.ping(), {});
});
