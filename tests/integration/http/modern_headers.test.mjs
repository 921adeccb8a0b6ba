// Streamable HTTP for protocol 2026-07-28 through the real binary, with raw fetch: the
// per-request envelope, the headers mirrored from the body (MCP-Protocol-Version, Mcp-Method,
// Mcp-Name, Mcp-Param-*), the HTTP status of each error, and no sessions. What the SDK would
// never send is exactly what these tests send.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { openSession, post, startServer } from './helpers.mjs';

const tools = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tools_2026');
const VERSION = '2026-07-28';

function envelope(extra = {}) {
  return {
    'io.modelcontextprotocol/protocolVersion': VERSION,
    'io.modelcontextprotocol/clientInfo': { name: 'raw-2026', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
    ...extra,
  };
}

function request(method, params = {}, { id = 1, meta = envelope() } = {}) {
  return { jsonrpc: '2.0', id, method, params: { ...params, ...(meta ? { _meta: meta } : {}) } };
}

// The headers a conforming 2026 client sends for `body`.
function headersFor(body) {
  const headers = { 'MCP-Protocol-Version': VERSION, 'Mcp-Method': body.method };
  const name = body.method === 'resources/read' ? body.params?.uri : body.params?.name;
  if (['tools/call', 'prompts/get', 'resources/read'].includes(body.method) && name) headers['Mcp-Name'] = name;
  return headers;
}

async function send(server, body, headers = headersFor(body)) {
  const response = await post(server, body, { headers });
  const text = await response.text();
  return { response, status: response.status, body: text ? JSON.parse(text) : null };
}

describe('2026-07-28 requests on /mcp', () => {
  let server;
  before(async () => {
    server = await startServer({ tools });
  });
  after(() => server.stop());

  test('a request with its headers is served without a session', async () => {
    const body = request('tools/call', { name: 'greet', arguments: { name: 'ada' } }, { id: 'g-1' });
    const { response, status, body: reply } = await send(server, body);
    assert.equal(status, 200, JSON.stringify(reply));
    assert.equal(reply.id, 'g-1');
    assert.equal(reply.result.content[0].text, 'hello ada');
    assert.equal(response.headers.get('mcp-session-id'), null);
  });

  test('an Mcp-Session-Id sent with a 2026 request is ignored, and none is issued', async () => {
    const body = request('tools/list');
    const { response, status, body: reply } = await send(server, body, {
      ...headersFor(body),
      'Mcp-Session-Id': 'no-such-session',
    });
    assert.equal(status, 200, JSON.stringify(reply));
    assert.ok(Array.isArray(reply.result.tools));
    assert.equal(response.headers.get('mcp-session-id'), null);
  });

  test('missing standard headers are a HeaderMismatch (-32020, 400) with the request id', async () => {
    const body = request('tools/list', {}, { id: 41 });
    for (const drop of ['MCP-Protocol-Version', 'Mcp-Method']) {
      const headers = headersFor(body);
      delete headers[drop];
      const { status, body: reply } = await send(server, body, headers);
      assert.equal(status, 400, drop);
      assert.equal(reply.error.code, -32020, drop);
      assert.equal(reply.id, 41, drop);
    }
    const call = request('tools/call', { name: 'greet', arguments: { name: 'x' } });
    const headers = headersFor(call);
    delete headers['Mcp-Name'];
    const missingName = await send(server, call, headers);
    assert.equal(missingName.status, 400);
    assert.equal(missingName.body.error.code, -32020);
  });

  test('headers that contradict the body are refused and nothing runs', async () => {
    const body = request('tools/list');
    let result = await send(server, body, { ...headersFor(body), 'Mcp-Method': 'prompts/list' });
    assert.equal(result.status, 400);
    assert.equal(result.body.error.code, -32020);
    // Values are case-sensitive, names are not.
    result = await send(server, body, { 'mcp-protocol-version': VERSION, 'MCP-METHOD': 'TOOLS/LIST' });
    assert.equal(result.status, 400);
    result = await send(server, body, { 'mcp-protocol-version': VERSION, 'MCP-METHOD': 'tools/list' });
    assert.equal(result.status, 200);

    const call = request('tools/call', { name: 'greet', arguments: { name: 'x' } });
    result = await send(server, call, { ...headersFor(call), 'Mcp-Name': 'wrong_tool' });
    assert.equal(result.status, 400);
    assert.equal(result.body.error.code, -32020);
    // Optional whitespace around the value does not count; a Base64 sentinel is decoded.
    result = await send(server, call, { ...headersFor(call), 'Mcp-Name': '  greet  ' });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    result = await send(server, call, { ...headersFor(call), 'Mcp-Name': '=?base64?Z3JlZXQ=?=' });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    result = await send(server, call, { ...headersFor(call), 'Mcp-Name': '=?base64?Z3JlZXQ?=' });
    assert.equal(result.status, 400);

    // The header's version must be the body's.
    result = await send(server, body, { ...headersFor(body), 'MCP-Protocol-Version': '2025-11-25' });
    assert.equal(result.status, 400);
    assert.equal(result.body.error.code, -32020);
  });

  test('a malformed envelope is -32602 with 400', async () => {
    const meta = envelope();
    delete meta['io.modelcontextprotocol/clientCapabilities'];
    let result = await send(server, request('server/discover', {}, { id: 104, meta }));
    assert.equal(result.status, 400);
    assert.equal(result.body.error.code, -32602);
    assert.equal(result.body.id, 104);
    // A 2026 header on a request without any envelope.
    result = await send(server, request('server/discover', {}, { id: 101, meta: null }));
    assert.equal(result.status, 400);
    assert.equal(result.body.error.code, -32602);
    assert.equal(result.body.id, 101);
  });

  test('an unsupported version is -32022 listing the supported ones', async () => {
    const body = request('server/discover', {}, { id: 301, meta: envelope({ 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' }) });
    const result = await send(server, body, { ...headersFor(body), 'MCP-Protocol-Version': 'v999.0.0' });
    assert.equal(result.status, 400);
    assert.equal(result.body.error.code, -32022);
    assert.deepEqual(result.body.error.data, { supported: [VERSION], requested: 'v999.0.0' });
    assert.equal(result.body.id, 301);
  });

  test('unknown and 2025-only methods are 404 with -32601', async () => {
    for (const method of ['unknown/method', 'ping', 'initialize']) {
      const { status, body } = await send(server, request(method, {}, { id: 500 }));
      assert.equal(status, 404, method);
      assert.equal(body.error.code, -32601, method);
      assert.equal(body.id, 500, method);
    }
  });

  test('a handler error stays in-band (200)', async () => {
    const call = request('tools/call', { name: 'no_such_tool', arguments: {} });
    const { status, body } = await send(server, call);
    assert.equal(status, 200);
    assert.equal(body.error.code, -32602);
  });

  test('x-mcp-header parameters must be mirrored into Mcp-Param-* headers', async () => {
    const call = request('tools/call', { name: 'weather', arguments: { region: 'us-west1', days: 3 } });
    let result = await send(server, call, { ...headersFor(call), 'Mcp-Param-Region': 'us-west1', 'Mcp-Param-Days': '3' });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body.result.content[0].text, 'weather in us-west1');
    // Integers compare as numbers.
    result = await send(server, call, { ...headersFor(call), 'Mcp-Param-Region': 'us-west1', 'mcp-param-days': '3.0' });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    // Missing, different, or badly encoded: HeaderMismatch.
    for (const headers of [
      { 'Mcp-Param-Days': '3' },
      { 'Mcp-Param-Region': 'eu-north1', 'Mcp-Param-Days': '3' },
      { 'Mcp-Param-Region': '=?base64?dXMtd2VzdDE?=', 'Mcp-Param-Days': '3' },
      { 'Mcp-Param-Region': 'us-west1', 'Mcp-Param-Days': '4' },
    ]) {
      result = await send(server, call, { ...headersFor(call), ...headers });
      assert.equal(result.status, 400, JSON.stringify(headers));
      assert.equal(result.body.error.code, -32020, JSON.stringify(headers));
    }
    // A Base64 value decodes to the argument; an argument left out needs no header.
    const unicode = request('tools/call', { name: 'weather', arguments: { region: 'Zürich' } });
    result = await send(server, unicode, {
      ...headersFor(unicode),
      'Mcp-Param-Region': `=?base64?${Buffer.from('Zürich').toString('base64')}?=`,
    });
    assert.equal(result.status, 200, JSON.stringify(result.body));
  });

  test('batches must not carry 2026 requests', async () => {
    const body = [request('tools/list', {}, { id: 1 }), request('tools/list', {}, { id: 2 })];
    const response = await post(server, body, { headers: { 'MCP-Protocol-Version': VERSION } });
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error.code, -32600);
  });

  test('a 2026 notification gets 202', async () => {
    const response = await post(
      server,
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'x', _meta: envelope() } },
      { headers: { 'MCP-Protocol-Version': VERSION, 'Mcp-Method': 'notifications/cancelled' } },
    );
    assert.equal(response.status, 202);
  });

  test('2025 sessions on the same server are unaffected', async () => {
    const session = await openSession(server);
    const response = await post(
      server,
      { jsonrpc: '2.0', id: 9, method: 'tools/list' },
      { headers: { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' } },
    );
    assert.equal(response.status, 200);
    assert.equal((await response.json()).result.tools.length, 2);
  });

  test('CORS preflight allows the 2026 headers', async () => {
    const response = await fetch(server.url, {
      method: 'OPTIONS',
      headers: {
        Origin: server.origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'mcp-method, mcp-name, mcp-param-region',
      },
    });
    assert.equal(response.status, 204);
    const allowed = response.headers.get('access-control-allow-headers');
    for (const header of ['Mcp-Method', 'Mcp-Name', 'mcp-param-region']) assert.ok(allowed.includes(header), header);
  });
});

describe('2026-07-28 requests on a --stateless server', () => {
  let server;
  before(async () => {
    server = await startServer({ tools, args: ['--stateless'] });
  });
  after(() => server.stop());

  test('are served the same way', async () => {
    const body = request('tools/list');
    const { status, body: reply, response } = await send(server, body);
    assert.equal(status, 200, JSON.stringify(reply));
    assert.equal(reply.result.tools.length, 2);
    assert.equal(response.headers.get('mcp-session-id'), null);
    const missing = await send(server, body, { 'Mcp-Method': 'tools/list' });
    assert.equal(missing.status, 400);
  });
});

