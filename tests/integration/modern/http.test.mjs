// Protocol revision 2026-07-28 over Streamable HTTP: the official 2.x client
// (@modelcontextprotocol/client) against one running `mcpd serve --http`, and the 1.32 SDK
// client (2025-11-25, initialize and a session) using the SAME process at the same time.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { connectStreamable, post, startServer } from '../http/helpers.mjs';
import { connectHttp, firstText, listenOnce, modernVersion, toolsDir } from './helpers.mjs';

let server;
// One pinned client for the tests that need it, connected on first use.
let modernConnection;
const connectModern = () => (modernConnection ??= connectHttp(server, { mode: 'pin' }));

before(async () => {
  server = await startServer({ tools: toolsDir });
});

after(async () => {
  if (modernConnection) await (await modernConnection.catch(() => null))?.close();
  await server?.stop();
});

test('a pinned 2.x client negotiates 2026-07-28 and gets no session', async () => {
  const modern = await connectModern();
  const { client, transport } = modern;
  assert.equal(client.getNegotiatedProtocolVersion(), modernVersion, server.log);
  assert.ok(client.getDiscoverResult().supportedVersions.includes(modernVersion));
  assert.equal(client.getServerVersion()?.name, 'mcpd');
  assert.equal(transport.sessionId, undefined);
});

test('tools/list, tools/call, resources/read and prompts/get over the 2026 wire', async () => {
  const modern = await connectModern();
  const { client } = modern;
  const { tools } = await client.listTools();
  assert.deepEqual(
    tools.map((t) => t.name),
    ['greet', 'ask_name'],
  );
  assert.equal(firstText(await client.callTool({ name: 'greet', arguments: { name: 'Grace' } })), 'Hello, Grace.');
  assert.equal(firstText(await client.readResource({ uri: 'modern://readme' })), 'mcpd speaks 2024-11-05 to 2026-07-28.');
  assert.equal(
    firstText(await client.getPrompt({ name: 'review', arguments: { file: 'main.cpp' } })),
    'Please review main.cpp.',
  );
  assert.equal(modern.transport.sessionId, undefined);
});

test('an exec tool asks for input: InputRequiredResult, the client answers, the tool completes', async () => {
  const modern = await connectModern();
  const before = modern.asked.length;
  const result = await modern.client.callTool({ name: 'ask_name', arguments: {} });
  assert.notEqual(result.isError, true, JSON.stringify(result));
  assert.equal(firstText(result), 'Hello, Ada!');
  assert.deepEqual(modern.asked.slice(before), ['What is your name?']);
});

test('auto negotiation over HTTP picks 2026-07-28', async () => {
  const auto = await connectHttp(server, { mode: 'auto' });
  try {
    assert.equal(auto.client.getNegotiatedProtocolVersion(), modernVersion);
    assert.equal(firstText(await auto.client.callTool({ name: 'greet', arguments: { name: 'Ken' } })), 'Hello, Ken.');
  } finally {
    await auto.close();
  }
});

test('the 1.32 SDK client and the 2.x client use the same server at the same time', async () => {
  const modern = await connectModern();
  const old = await connectStreamable(server, { capabilities: { elicitation: {} } });
  const oldAsked = [];
  old.client.setRequestHandler(ElicitRequestSchema, async (request) => {
    oldAsked.push(request.params.message);
    return { action: 'accept', content: { name: 'Barbara' } };
  });
  try {
    assert.equal(old.client.getServerVersion()?.name, 'mcpd');
    assert.ok(old.transport.sessionId, 'the 2025 client has a session');
    // Interleaved on the same process: both eras, and the live relay (2025) of an exec tool's
    // question. (The 2026 side of that question, MRTR, has its own test.)
    const [oldAsk, oldGreet, newGreet, oldTools, newTools] = await Promise.all([
      old.client.callTool({ name: 'ask_name', arguments: {} }),
      old.client.callTool({ name: 'greet', arguments: { name: 'Old' } }),
      modern.client.callTool({ name: 'greet', arguments: { name: 'New' } }),
      old.client.listTools(),
      modern.client.listTools(),
    ]);
    assert.equal(firstText(oldAsk), 'Hello, Barbara!');
    assert.equal(firstText(oldGreet), 'Hello, Old.');
    assert.equal(firstText(newGreet), 'Hello, New.');
    assert.deepEqual(
      oldTools.tools.map((t) => t.name),
      newTools.tools.map((t) => t.name),
    );
    assert.deepEqual(oldAsked, ['What is your name?']);
    assert.equal(modern.transport.sessionId, undefined);
  } finally {
    await old.close();
  }
});

test('a 2026 request whose headers contradict its body is refused (-32020, HTTP 400)', async () => {
  const body = {
    jsonrpc: '2.0',
    id: 7,
    method: 'tools/list',
    params: {
      _meta: {
        'io.modelcontextprotocol/protocolVersion': modernVersion,
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  };
  const response = await post(server, body, {
    headers: { 'MCP-Protocol-Version': modernVersion, 'Mcp-Method': 'prompts/list' },
  });
  assert.equal(response.status, 400);
  const reply = await response.json();
  assert.equal(reply.id, 7);
  assert.equal(reply.error.code, -32020);
  // The server keeps serving.
  const modern = await connectModern();
  assert.equal(firstText(await modern.client.callTool({ name: 'greet', arguments: { name: 'After' } })), 'Hello, After.');
});

test('subscriptions/listen is acknowledged with what the server can deliver, and closes', async () => {
  const modern = await connectModern();
  await listenOnce(modern.client, assert);
  // The connection keeps working after the subscription is gone.
  const result = await modern.client.callTool({ name: 'greet', arguments: { name: 'Again' } });
  assert.equal(firstText(result), 'Hello, Again.');
});

test('a tampered requestState is refused with a JSON-RPC error', async () => {
  const modern = await connectModern();
  const first = await modern.client.callTool({ name: 'ask_name', arguments: {} }, { allowInputRequired: true });
  assert.equal(first.resultType, 'input_required', JSON.stringify(first));
  await assert.rejects(
    modern.client.callTool({
      name: 'ask_name',
      arguments: {},
      inputResponses: { name: { action: 'accept', content: { name: 'Mallory' } } },
      requestState: first.requestState + 'x',
    }),
    (error) => error.code === -32602,
  );
});

test('replicas sharing MCPD_STATE_KEY accept each other\'s requestState; another key refuses it', async () => {
  const key = 'replica-shared-state-key-0123456789abcdef';
  const [a, b, stranger] = await Promise.all([
    startServer({ tools: toolsDir, env: { MCPD_STATE_KEY: key } }),
    startServer({ tools: toolsDir, env: { MCPD_STATE_KEY: key } }),
    startServer({ tools: toolsDir }),
  ]);
  const clients = [];
  try {
    const [onA, onB, onStranger] = await Promise.all(
      [a, b, stranger].map((s) => connectHttp(s, { mode: 'pin' })),
    );
    clients.push(onA, onB, onStranger);
    // The first round on one replica...
    const first = await onA.client.callTool({ name: 'ask_name', arguments: {} }, { allowInputRequired: true });
    assert.equal(first.resultType, 'input_required', JSON.stringify(first));
    const retry = {
      name: 'ask_name',
      arguments: {},
      inputResponses: { name: { action: 'accept', content: { name: 'Replica' } } },
      requestState: first.requestState,
    };
    // ...the retry on another, as a load balancer may send it.
    assert.equal(firstText(await onB.client.callTool(retry)), 'Hello, Replica!', b.log);
    await assert.rejects(onStranger.client.callTool(retry), (error) => error.code === -32602);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([a, b, stranger].map((s) => s.stop()));
  }
});
