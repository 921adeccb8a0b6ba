// http handlers over stdio, and the upstream "django" from DJANGO_BASE_URL/DJANGO_API_KEY
// (Authorization: Api-Key KEY) without any config file.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { connectStdio, startUpstream, text } from './helpers.mjs';

let upstream;

before(async () => {
  upstream = await startUpstream({ apiKey: 'django-key-from-env' });
});

after(async () => {
  await upstream?.close();
});

test('DJANGO_BASE_URL and DJANGO_API_KEY define the upstream django', async () => {
  const session = await connectStdio({
    env: { DJANGO_BASE_URL: upstream.url + '/', DJANGO_API_KEY: 'django-key-from-env' },
  });
  try {
    upstream.clear();
    const result = await session.client.callTool({ name: 'search_products', arguments: { query: 'teapot' } });
    assert.equal(result.isError, undefined, text(result) + session.stderr());
    assert.equal(result.structuredContent.results[0].sku, 'TEA-1');
    const [sent] = upstream.requests((r) => r.path === '/api/v1/products/');
    assert.equal(sent.headers.authorization, 'Api-Key django-key-from-env');
    assert.equal(sent.headers['x-mcp-user'], undefined, 'no identity on plain stdio');
    assert.match(sent.headers['x-correlation-id'] ?? '', /\S/);
    const read = await session.client.readResource({ uri: 'client://3' });
    assert.equal(JSON.parse(read.contents[0].text).name, 'Client 3');
    // The key never reaches the log.
    assert.ok(!session.stderr().includes('django-key-from-env'));
  } finally {
    await session.close();
  }
});

test('a wrong key is the upstream\'s 401, as a tool error', async () => {
  const session = await connectStdio({
    env: { DJANGO_BASE_URL: upstream.url, DJANGO_API_KEY: 'wrong' },
  });
  try {
    const result = await session.client.callTool({ name: 'get_product', arguments: { id: '1' } });
    assert.equal(result.isError, true);
    assert.equal(
      text(result),
      "upstream 'django' answered 401 Unauthorized: Authentication credentials were not provided.",
    );
  } finally {
    await session.close();
  }
});
