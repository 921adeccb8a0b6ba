// http handlers against the stand-in Django API, through `mcpd serve --http` with bearer
// tokens: templating (with hostile values), headers sent upstream, response mapping, retry
// rules, timeouts, size cap, resource templates.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Database, apiKey, connectStreamable, startMcpd, startUpstream, text, waitFor } from './helpers.mjs';

describe('http handler calls', () => {
  let upstream;
  let server;
  let db;
  let token;
  let session;

  before(async () => {
    upstream = await startUpstream({ apiKey });
    db = new Database();
    db.addUser('ada@example.com');
    token = db.createToken({ user: 'ada@example.com', name: 'laptop' }).token;
    server = await startMcpd(upstream.url, { database: db });
    session = await connectStreamable(server, {
      token,
      headers: { 'X-Correlation-ID': 'cid-upstream-test-1' },
    });
  });

  after(async () => {
    await session?.close();
    await server?.stop();
    await upstream?.close();
    db?.remove();
  });

  const call = (name, args = {}) => session.client.callTool({ name, arguments: args });
  const toPath = (path) => upstream.requests((r) => r.path === path);

  test('query parameters are filled with typed values; absent optional ones are omitted', async () => {
    upstream.clear();
    const result = await call('search_products', { query: 'mug', in_stock: true });
    assert.equal(result.isError, undefined, text(result));
    assert.equal(result.structuredContent.count, 1);
    assert.equal(result.structuredContent.results[0].name, 'Blue mug');
    assert.deepEqual(JSON.parse(text(result)), result.structuredContent);
    const [sent] = toPath('/api/v1/products/');
    assert.equal(sent.method, 'GET');
    assert.deepEqual(sent.query, { q: ['mug'], in_stock: ['true'], limit: ['20'] });

    upstream.clear();
    await call('search_products', { query: 'tea' });
    assert.deepEqual(toPath('/api/v1/products/')[0].query, { q: ['tea'], limit: ['20'] });
  });

  test('upstream headers: API key, correlation id, user, agent; never the bearer token', async () => {
    upstream.clear();
    await call('search_products', { query: 'x' });
    const [sent] = toPath('/api/v1/products/');
    const h = sent.headers;
    assert.equal(h.authorization, `Api-Key ${apiKey}`);
    assert.equal(h['x-correlation-id'], 'cid-upstream-test-1');
    assert.equal(h['x-mcp-user'], 'ada@example.com');
    assert.match(h['user-agent'], /^mcpd\/\d+\.\d+/);
    assert.equal(h.accept, 'application/json');
    for (const value of Object.values(h)) assert.ok(!String(value).includes(token), 'bearer token leaked');
    assert.ok(!JSON.stringify(h).includes('Bearer'));
  });

  test('hostile values stay inside their path segment, query value, header and JSON string', async () => {
    upstream.clear();
    const hostile = {
      segment: '../admin/?x=1#frag"\'',
      q: 'a&b=c d\r\nSet-Cookie: evil',
      note: 'he said "hi", \\o/',
      tag: '"}, "admin": true, {"',
    };
    const result = await call('echo', hostile);
    assert.equal(result.isError, undefined, text(result));
    const [sent] = upstream.requests((r) => r.path.startsWith('/api/v1/echo/'));
    assert.equal(sent.url.split('?')[0], '/api/v1/echo/..%2Fadmin%2F%3Fx%3D1%23frag%22%27/');
    assert.equal(decodeURIComponent(sent.path.split('/')[4]), hostile.segment);
    assert.deepEqual(sent.query, { q: [hostile.q], fixed: ['yes'] });
    assert.deepEqual(JSON.parse(sent.body), { note: hostile.note, tag: hostile.tag });
    assert.equal(sent.headers['x-note'], hostile.note);
    assert.equal(sent.headers['accept-language'], 'en');
    assert.equal(sent.headers['content-type'], 'application/json');
    assert.equal(sent.headers['set-cookie'], undefined);
  });

  test('a line break in a header value, an empty or dot path segment are refused', async () => {
    upstream.clear();
    const crlf = await call('echo', { segment: 'a', note: 'x\r\nX-Admin: 1' });
    assert.equal(crlf.isError, true);
    assert.match(text(crlf), /header X-Note/);
    for (const segment of ['', '..', '.']) {
      const refused = await call('echo', { segment });
      assert.equal(refused.isError, true, `segment ${JSON.stringify(segment)}`);
      assert.match(text(refused), /upstream 'django'/);
    }
    assert.equal(upstream.requests().length, 0, 'nothing may reach the upstream');
  });

  test('JSON body: typed values, absent members left out, validation errors as tool errors', async () => {
    upstream.clear();
    const created = await call('create_product', { name: 'Mug "XL"', price: '12.00', tags: ['a', 'b'] });
    assert.equal(created.isError, undefined, text(created));
    const [sent] = toPath('/api/v1/products/');
    assert.equal(sent.method, 'POST');
    assert.deepEqual(JSON.parse(sent.body), {
      name: 'Mug "XL"',
      price: '12.00',
      tags: ['a', 'b'],
      label: 'Mug "XL" (12.00)',
    });
    assert.equal(created.structuredContent.name, 'Mug "XL"');

    const invalid = await call('create_product', { price: '1.00' });
    assert.equal(invalid.isError, true);
    assert.match(text(invalid), /answered 400 Bad Request/);
    assert.match(text(invalid), /This field is required/);
  });

  test('404 carries the status and detail and is not retried', async () => {
    upstream.clear();
    const result = await call('get_product', { id: '999' });
    assert.equal(result.isError, true);
    assert.equal(text(result), "upstream 'django' answered 404 Not Found: Not found.");
    assert.equal(toPath('/api/v1/products/999/').length, 1);
  });

  test('GET: 5xx is retried until success; too many failures end as a tool error', async () => {
    upstream.clear();
    const ok = await call('flaky_get', { key: 'get-once' });
    assert.equal(ok.isError, undefined, text(ok));
    assert.equal(ok.structuredContent.attempts, 2);
    assert.equal(toPath('/api/v1/flaky/get-once/').length, 2);

    const failed = await call('flaky_get', { key: 'get-always', fail: 10 });
    assert.equal(failed.isError, true);
    assert.match(text(failed), /503 Service Unavailable: Service temporarily unavailable\./);
    assert.equal(toPath('/api/v1/flaky/get-always/').length, 3, 'max_retries 2: three attempts');
  });

  test('POST is not retried unless the tool says "retry": true', async () => {
    upstream.clear();
    const once = await call('flaky_post', { key: 'post-1' });
    assert.equal(once.isError, true);
    assert.match(text(once), /503/);
    assert.equal(toPath('/api/v1/flaky/post-1/').length, 1);

    const retried = await call('flaky_post_retry', { key: 'post-2' });
    assert.equal(retried.isError, undefined, text(retried));
    assert.equal(toPath('/api/v1/flaky/post-2/').length, 2);
  });

  test('a slow upstream times out (each attempt) and the error names the upstream', async () => {
    upstream.clear();
    const result = await call('slow', { ms: 4000 });
    assert.equal(result.isError, true);
    assert.equal(text(result), "upstream 'django' did not answer within 500 ms");
    assert.equal(toPath('/api/v1/slow/').length, 3, 'timeouts of a GET are retried');
    const fast = await call('slow', { ms: 10 });
    assert.equal(fast.isError, undefined, text(fast));
  });

  test('non-JSON, JSON arrays, 204, HTML errors and oversized answers', async () => {
    const plain = await call('text');
    assert.equal(text(plain), 'plain text, not JSON\n');
    assert.equal(plain.structuredContent, undefined);

    const list = await call('list');
    assert.deepEqual(JSON.parse(text(list)), [{ id: 1 }, { id: 2 }]);
    assert.equal(list.structuredContent, undefined);

    const deleted = await call('delete_product', { id: 2 });
    assert.equal(deleted.isError, undefined, text(deleted));
    assert.match(text(deleted), /^204/);

    const html = await call('html_error');
    assert.equal(html.isError, true);
    assert.equal(text(html), "upstream 'django' answered 500 Internal Server Error");

    const big = await call('big');
    assert.equal(big.isError, true);
    assert.match(text(big), /larger than 4096 KiB/);
  });

  test('a resource template with an http handler', async () => {
    upstream.clear();
    const read = await session.client.readResource({ uri: 'client://7' });
    assert.equal(read.contents.length, 1);
    assert.equal(read.contents[0].uri, 'client://7');
    assert.deepEqual(JSON.parse(read.contents[0].text), {
      id: 7,
      name: 'Client 7',
      email: 'client7@example.com',
    });
    assert.equal(toPath('/api/v1/clients/7/')[0].headers['x-mcp-user'], 'ada@example.com');
    await assert.rejects(session.client.readResource({ uri: 'client://nobody' }), /resource handler failed/);
  });

  test('cancelling a call stops waiting for the upstream', async () => {
    upstream.clear();
    const controller = new AbortController();
    const abandoned = upstream.state.abandoned;
    const pending = session.client.callTool({ name: 'slow_long', arguments: { ms: 20000 } }, undefined, {
      signal: controller.signal,
      timeout: 60000,
    });
    await waitFor(() => toPath('/api/v1/slow/').length === 1, { what: 'the upstream request' });
    controller.abort();
    await assert.rejects(pending);
    // mcpd closes its upstream connection long before the 20 s answer.
    await waitFor(() => upstream.state.abandoned > abandoned, { ms: 10000, what: 'the upstream call to end' });
    // The server is still fine, and the pool is usable.
    const result = await call('search_products', { query: 'tea' });
    assert.equal(result.structuredContent.count, 1);
  });
});

describe('unreachable upstream', () => {
  test('connection refused is a tool error naming the upstream, without secrets', async () => {
    const probe = await startUpstream();
    const url = probe.url;
    await probe.close(); // nothing listens there any more
    const server = await startMcpd(url, { extra: { max_retries: 1 } });
    const { connectStreamable: connect } = await import('./helpers.mjs');
    const session = await connect(server);
    try {
      const result = await session.client.callTool({ name: 'get_product', arguments: { id: '1' } });
      assert.equal(result.isError, true);
      assert.match(text(result), /^upstream 'django' is unavailable: cannot connect \(Connection refused\)$/);
      assert.ok(!text(result).includes(apiKey));
    } finally {
      await session.close();
      await server.stop();
    }
  });
});
