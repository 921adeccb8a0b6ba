// /ready and /health include the upstream's health path: 503 and "degraded" while it is down,
// 200 again once it recovers (after the short cache), without hammering it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startMcpd, startUpstream, waitFor } from './helpers.mjs';

let upstream;
let server;

before(async () => {
  upstream = await startUpstream();
  server = await startMcpd(upstream.url);
});

after(async () => {
  await server?.stop();
  await upstream?.close();
});

async function probe(path) {
  const response = await fetch(server.origin + path);
  return { status: response.status, body: await response.json() };
}

test('ready while the upstream is healthy', async () => {
  const ready = await probe('/ready');
  assert.equal(ready.status, 200);
  assert.equal(ready.body.status, 'ready');
  assert.equal(ready.body.checks['upstream:django'], 'ok');
  const health = await probe('/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'healthy');
  assert.ok(upstream.requests((r) => r.path === '/api/v1/core/stats/').length >= 1);
});

test('probes are answered from a short cache', async () => {
  const before = upstream.state.healthHits;
  for (let i = 0; i < 10; i++) assert.equal((await probe('/ready')).status, 200);
  // Ten probes within the 5 s cache: at most one new request (the cache may just expire).
  assert.ok(upstream.state.healthHits - before <= 1, `${upstream.state.healthHits - before} health requests`);
});

test('503 and degraded while the upstream is down, 200 after it recovers', async () => {
  upstream.state.health = 503;
  const down = await waitFor(async () => {
    const r = await probe('/ready');
    return r.status === 503 ? r : null;
  }, { what: '/ready to report the upstream down' });
  assert.equal(down.body.status, 'not_ready');
  assert.equal(down.body.checks['upstream:django'], 'error');
  const health = await probe('/health');
  assert.equal(health.status, 503);
  assert.equal(health.body.status, 'degraded');
  assert.equal(health.body.checks['upstream:django'], 'error');
  // Liveness does not depend on upstreams.
  assert.equal((await fetch(server.origin + '/live')).status, 200);

  upstream.state.health = 200;
  const up = await waitFor(async () => {
    const r = await probe('/ready');
    return r.status === 200 ? r : null;
  }, { what: '/ready to recover' });
  assert.equal(up.body.checks['upstream:django'], 'ok');
  assert.equal((await probe('/health')).body.status, 'healthy');
});

test('an upstream that does not answer at all is down too', async () => {
  const other = await startUpstream();
  const url = other.url;
  await other.close();
  const lonely = await startMcpd(url);
  try {
    const response = await fetch(lonely.origin + '/ready');
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.equal(body.checks['upstream:django'], 'error');
  } finally {
    await lonely.stop();
  }
});
