// Protocol revision 2026-07-28 over stdio: the official 2.x client (@modelcontextprotocol/client)
// against the real `mcpd serve --stdio`: discovery instead of initialize, tools, resources,
// prompts, and a multi round-trip (MRTR) elicitation asked by an exec tool. Then one raw
// process that serves 2025-era and 2026-era requests side by side on the same pipe.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { RawServer } from '../stdio_helpers.mjs';
import { connectStdio, firstText, listenOnce, modernVersion, toolsDir } from './helpers.mjs';

// One pinned client for the tests that need it, connected on first use (so the tests that do
// not need it report for themselves).
let pinnedConnection;
const connectPinned = () => (pinnedConnection ??= connectStdio({ mode: 'pin' }));

after(async () => {
  if (pinnedConnection) await (await pinnedConnection.catch(() => null))?.close();
});

test('a pinned 2.x client negotiates 2026-07-28 through server/discover', async () => {
  const pinned = await connectPinned();
  const { client } = pinned;
  assert.equal(client.getProtocolEra(), 'modern', pinned.stderr());
  assert.equal(client.getNegotiatedProtocolVersion(), modernVersion);
  const discover = client.getDiscoverResult();
  assert.ok(discover.supportedVersions.includes(modernVersion), JSON.stringify(discover));
  assert.ok(discover.capabilities.tools, JSON.stringify(discover));
  assert.equal(client.getServerVersion()?.name, 'mcpd', JSON.stringify(discover));
});

test('tools/list over the 2026 wire lists the descriptors', async () => {
  const pinned = await connectPinned();
  const { tools } = await pinned.client.listTools();
  assert.deepEqual(
    tools.map((t) => t.name),
    ['greet', 'ask_name'],
  );
});

test('tools/call of a static tool', async () => {
  const pinned = await connectPinned();
  const result = await pinned.client.callTool({ name: 'greet', arguments: { name: 'Grace' } });
  assert.notEqual(result.isError, true, JSON.stringify(result));
  assert.equal(firstText(result), 'Hello, Grace.');
});

test('resources/read', async () => {
  const pinned = await connectPinned();
  const result = await pinned.client.readResource({ uri: 'modern://readme' });
  assert.equal(result.contents[0].uri, 'modern://readme');
  assert.equal(firstText(result), 'mcpd speaks 2024-11-05 to 2026-07-28.');
});

test('prompts/get', async () => {
  const pinned = await connectPinned();
  const result = await pinned.client.getPrompt({ name: 'review', arguments: { file: 'main.cpp' } });
  assert.equal(firstText(result), 'Please review main.cpp.');
});

test('an exec tool asks for input: InputRequiredResult, the client answers, the tool completes', async () => {
  const pinned = await connectPinned();
  const before = pinned.asked.length;
  const result = await pinned.client.callTool({ name: 'ask_name', arguments: {} });
  assert.notEqual(result.isError, true, JSON.stringify(result));
  assert.equal(firstText(result), 'Hello, Ada!');
  // The client's elicitation handler ran once, for the tool's one question.
  assert.deepEqual(pinned.asked.slice(before), ['What is your name?']);
});

test('without auto-fulfilment the client sees the InputRequiredResult itself', async () => {
  const pinned = await connectPinned();
  const first = await pinned.client.callTool({ name: 'ask_name', arguments: {} }, { allowInputRequired: true });
  assert.equal(first.resultType, 'input_required', JSON.stringify(first));
  assert.equal(first.inputRequests.name.method, 'elicitation/create');
  assert.equal(typeof first.requestState, 'string');
  const done = await pinned.client.callTool({
    name: 'ask_name',
    arguments: {},
    inputResponses: { name: { action: 'accept', content: { name: 'Linus' } } },
    requestState: first.requestState,
  });
  assert.equal(firstText(done), 'Hello, Linus!');
});

test('auto negotiation picks 2026-07-28 (the server/discover probe runs on a sibling process)', async () => {
  const auto = await connectStdio({ mode: 'auto' });
  try {
    assert.equal(auto.client.getNegotiatedProtocolVersion(), modernVersion, auto.stderr());
    const result = await auto.client.callTool({ name: 'greet', arguments: { name: 'Ken' } });
    assert.equal(firstText(result), 'Hello, Ken.');
  } finally {
    await auto.close();
  }
});

test('the 2.x client without negotiation still gets the 2025 handshake', async () => {
  const legacy = await connectStdio({ mode: null });
  try {
    assert.equal(legacy.client.getProtocolEra(), 'legacy');
    assert.equal(legacy.client.getNegotiatedProtocolVersion(), '2025-11-25');
    const result = await legacy.client.callTool({ name: 'ask_name', arguments: {} });
    assert.equal(firstText(result), 'Hello, Ada!');
  } finally {
    await legacy.close();
  }
});

// One process, one pipe: a 2025 session and 2026 requests (per-request _meta) interleaved.
test('one stdio process serves 2025-11-25 and 2026-07-28 requests side by side', async () => {
  const raw = new RawServer({ args: ['--tools', toolsDir] });
  const meta = {
    'io.modelcontextprotocol/protocolVersion': modernVersion,
    'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  try {
    raw.request(1, 'initialize', {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'raw', version: '1' },
    });
    assert.equal((await raw.response(1)).result.protocolVersion, '2025-11-25');
    raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });

    raw.request(2, 'tools/list', { _meta: meta });
    const modern = (await raw.response(2)).result;
    assert.equal(modern.resultType, 'complete', JSON.stringify(modern));
    assert.equal(modern._meta['io.modelcontextprotocol/serverInfo'].name, 'mcpd');
    assert.ok(Number.isInteger(modern.ttlMs) && modern.ttlMs >= 0, JSON.stringify(modern));
    assert.ok(['public', 'private'].includes(modern.cacheScope), JSON.stringify(modern));

    raw.request(3, 'tools/list', {});
    const legacy = (await raw.response(3)).result;
    assert.deepEqual(
      legacy.tools.map((t) => t.name),
      modern.tools.map((t) => t.name),
    );
    assert.equal('resultType' in legacy, false, JSON.stringify(legacy));

    raw.request(4, 'ping', { _meta: meta });
    assert.equal((await raw.response(4)).error.code, -32601);
    raw.request(5, 'ping');
    assert.deepEqual((await raw.response(5)).result, {});

    raw.request(6, 'tools/list', { _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } });
    const unsupported = (await raw.response(6)).error;
    assert.equal(unsupported.code, -32022, JSON.stringify(unsupported));
    assert.equal(unsupported.data.requested, '2099-01-01');
    assert.ok(unsupported.data.supported.includes(modernVersion));
  } finally {
    raw.kill();
  }
});

test('subscriptions/listen is acknowledged with what the server can deliver, and closes', async () => {
  const pinned = await connectPinned();
  await listenOnce(pinned.client, assert);
  // The connection keeps working after the subscription is gone.
  const result = await pinned.client.callTool({ name: 'greet', arguments: { name: 'Again' } });
  assert.equal(firstText(result), 'Hello, Again.');
});
