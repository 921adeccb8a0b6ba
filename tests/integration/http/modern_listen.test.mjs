// subscriptions/listen (2026-07-28) over Streamable HTTP through the real binary: the answer
// is a long-lived SSE stream whose first event is the acknowledgement, every notification
// carries the listen's id as its subscriptionId, the stream holds no worker thread, it ends
// when the client leaves, and a shutdown closes it with its final result.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { post, readEvents, startServer, waitFor } from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const VERSION = '2026-07-28';
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

function envelope() {
  return {
    'io.modelcontextprotocol/protocolVersion': VERSION,
    'io.modelcontextprotocol/clientCapabilities': {},
  };
}

function listen(server, id, notifications, { signal } = {}) {
  const body = { jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { _meta: envelope(), notifications } };
  return fetch(server.url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': VERSION,
      'Mcp-Method': 'subscriptions/listen',
    },
    body: JSON.stringify(body),
    signal,
  });
}

function messages(events) {
  return events.filter((e) => e.data !== undefined).map((e) => JSON.parse(e.data));
}

describe('subscriptions/listen over HTTP', () => {
  let server;
  before(async () => {
    server = await startServer({ tools: path.join(here, 'tools_2026') });
  });
  after(() => server.stop());

  test('acknowledged first, tagged with the listen id, and kept open', async () => {
    const response = await listen(server, 'listen:1', { resourceSubscriptions: ['test://info'], toolsListChanged: true });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /text\/event-stream/);
    assert.equal(response.headers.get('mcp-session-id'), null);
    const events = await readEvents(response, { until: (e) => e.data !== undefined, keepOpen: true });
    const [ack] = messages(events);
    assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
    assert.equal(ack.params._meta[SUBSCRIPTION_ID], 'listen:1');
    // Tool lists never change here (listChanged: false): only the resource is honoured.
    assert.deepEqual(ack.params.notifications, { resourceSubscriptions: ['test://info'] });
    // No event ids: 2026 streams cannot be resumed.
    assert.ok(events.every((e) => e.id === undefined));
    await response.body.cancel();
    await waitFor(() => server.log.includes('listen \\"listen:1\\" ended: the client went away'), {
      what: 'the listen to end with its stream',
    });
  });

  test('with nothing to honour, the acknowledgement is followed by the closing result', async () => {
    const response = await listen(server, 7, { promptsListChanged: true });
    assert.equal(response.status, 200);
    const all = messages(await readEvents(response));
    assert.equal(all.length, 2);
    assert.equal(all[0].method, 'notifications/subscriptions/acknowledged');
    assert.deepEqual(all[0].params.notifications, {});
    assert.equal(all[1].id, 7);
    assert.equal(all[1].result.resultType, 'complete');
    assert.equal(all[1].result._meta[SUBSCRIPTION_ID], 7);
    assert.equal(all[1].result._meta['io.modelcontextprotocol/serverInfo'].name, 'mcpd');
  });

  test('a listen without a filter is refused in-band', async () => {
    const response = await post(
      server,
      { jsonrpc: '2.0', id: 3, method: 'subscriptions/listen', params: { _meta: envelope() } },
      { headers: { 'MCP-Protocol-Version': VERSION, 'Mcp-Method': 'subscriptions/listen' } },
    );
    assert.equal(response.status, 200);
    assert.equal((await response.json()).error.code, -32602);
  });

  test('open listens hold no worker thread', async () => {
    // More listens than the pool's 16 workers.
    const opened = [];
    for (let i = 0; i < 20; ++i) {
      const controller = new AbortController();
      const response = await listen(server, `hold-${i}`, { resourceSubscriptions: ['test://info'] }, { signal: controller.signal });
      await readEvents(response, { until: (e) => e.data !== undefined, keepOpen: true });
      opened.push(controller);
    }
    // resources/read runs on the worker pool; it still answers.
    const body = {
      jsonrpc: '2.0',
      id: 'read',
      method: 'resources/read',
      params: { uri: 'test://info', _meta: envelope() },
    };
    const response = await post(server, body, {
      headers: { 'MCP-Protocol-Version': VERSION, 'Mcp-Method': 'resources/read', 'Mcp-Name': 'test://info' },
    });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).result.contents[0].text, 'some info');
    for (const controller of opened) controller.abort();
  });
});

describe('subscriptions/listen at shutdown', () => {
  test('SIGTERM closes an open listen with its final result; exit 0', async () => {
    const server = await startServer({ tools: path.join(here, 'tools_2026') });
    const response = await listen(server, 'bye', { resourceSubscriptions: ['test://info'] });
    const reading = readEvents(response);
    await waitFor(() => server.log.includes('listen \\"bye\\" open'), { what: 'the listen to open' });
    server.proc.kill('SIGTERM');
    const all = messages(await reading);
    assert.equal(all[0].method, 'notifications/subscriptions/acknowledged');
    const last = all[all.length - 1];
    assert.equal(last.id, 'bye');
    assert.equal(last.result._meta[SUBSCRIPTION_ID], 'bye');
    const { code } = await server.wait();
    assert.equal(code, 0);
  });
});
