// http handler faults against upstreams that misbehave at the socket level (plain node `net`
// servers): one that accepts and never answers, one that resets the connection in the middle of
// its response, one that trickles a response slower than the timeout, one that speaks garbage
// instead of HTTP, and an https one that never starts the TLS handshake. Every call fails within its bound with a clear tool error, the retry
// policy holds (a GET is tried 1 + max_retries times, a POST once: counted upstream), and the
// server keeps serving. Slow upstreams, non-JSON, oversized answers and refused connections are
// in ../upstream/calls.test.mjs.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { connectStreamable, startMcpd, startUpstream } from '../upstream/helpers.mjs';
import { fdCount } from './helpers.mjs';

const text = (result) => (result.content ?? []).map((block) => block.text ?? '').join('');

const TIMEOUT_MS = 1000;
const MAX_RETRIES = 2;
// Every attempt may take the whole timeout; backoff before retry n is at most 200 ms * 2^n.
const BOUND_MS = (MAX_RETRIES + 1) * TIMEOUT_MS + 200 + 400;

// A TCP server that counts the requests it receives and answers each with `behaviour(socket)`.
async function faultyUpstream(behaviour) {
  const state = { requests: 0, connections: 0, sockets: new Set() };
  const server = net.createServer((socket) => {
    state.connections += 1;
    state.sockets.add(socket);
    socket.on('close', () => state.sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      while (buffer.includes('\r\n\r\n')) {
        buffer = buffer.slice(buffer.indexOf('\r\n\r\n') + 4); // GET or empty-bodied POST
        state.requests += 1;
        behaviour(socket);
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    close: async () => {
      for (const socket of state.sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const behaviours = {
  hang: () => {},
  reset: (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"results": [');
    setTimeout(() => socket.resetAndDestroy(), 50);
  },
  trickle: (socket) => {
    const body = JSON.stringify({ slow: 'x'.repeat(40) });
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    let sent = 0;
    const timer = setInterval(() => {
      if (socket.destroyed || sent >= body.length) return clearInterval(timer);
      socket.write(body[sent++]); // one byte every 100 ms: 5 s in all, past the 1 s timeout
    }, 100);
    socket.on('close', () => clearInterval(timer));
  },
  garbage: (socket) => {
    socket.end('\x00\x13\x37 this is not HTTP at all \xff\xfe\r\n\r\n');
  },
};

const expected = {
  hang: new RegExp(`^upstream 'django' did not answer within ${TIMEOUT_MS} ms$`),
  reset: /^upstream 'django' is unavailable: /,
  trickle: new RegExp(`^upstream 'django' did not answer within ${TIMEOUT_MS} ms$`),
  garbage: /^upstream 'django' is unavailable: /,
};

const cases = [
  ...Object.entries(behaviours).map(([name, behaviour]) => ({
    name,
    behaviour,
    scheme: 'http',
    title: `an upstream that ${name === 'garbage' ? 'sends garbage' : name + 's'}`,
  })),
  // An https upstream that accepts and never starts the TLS handshake.
  { name: 'hang', behaviour: behaviours.hang, scheme: 'https', title: 'an https upstream that hangs in the handshake' },
];

for (const { name, behaviour, scheme, title } of cases) {
  describe(title, () => {
    let upstream;
    let server;
    let session;

    before(async () => {
      upstream = await faultyUpstream(behaviour);
      server = await startMcpd(upstream.url.replace(/^http:/, `${scheme}:`), { extra: { timeout_ms: TIMEOUT_MS, max_retries: MAX_RETRIES } });
      session = await connectStreamable(server);
    });

    after(async () => {
      await session?.close();
      await server?.stop();
      await upstream?.close();
    });

    // Attempts as the upstream saw them: HTTP requests, or connections where TLS never began.
    const attempts = () => (scheme === 'https' ? upstream.state.connections : upstream.state.requests);
    const resetAttempts = () => {
      upstream.state.requests = 0;
      upstream.state.connections = 0;
    };

    const call = async (tool, args) => {
      const started = Date.now();
      const result = await session.client.callTool({ name: tool, arguments: args }, undefined, { timeout: 60000 });
      return { result, ms: Date.now() - started };
    };

    test('a GET fails within its bound after 1 + max_retries attempts', async () => {
      resetAttempts();
      const { result, ms } = await call('get_product', { id: '1' });
      assert.equal(result.isError, true);
      assert.match(text(result), expected[name]);
      assert.ok(!text(result).includes('test-api-key'), 'no secrets in the error');
      assert.equal(attempts(), MAX_RETRIES + 1);
      assert.ok(ms < BOUND_MS + 5000, `answered in ${ms} ms (bound ${BOUND_MS} ms + margin)`);
    });

    test('a POST fails after one attempt (not idempotent)', async () => {
      resetAttempts();
      const { result, ms } = await call('flaky_post', { key: 'p' });
      assert.equal(result.isError, true);
      assert.match(text(result), expected[name]);
      assert.equal(attempts(), 1);
      assert.ok(ms < TIMEOUT_MS + 5000, `answered in ${ms} ms`);
    });

    test('the server keeps serving, and its descriptors do not grow with failed calls', async () => {
      // Warm up with the same concurrency: the test client's own keep-alive connections to mcpd
      // (one per concurrent call) exist before the count.
      await Promise.all([1, 2, 3, 4].map((i) => call('flaky_post', { key: `warm-${i}` })));
      const before = fdCount(server.proc.pid);
      await Promise.all([1, 2, 3, 4].map((i) => call('get_product', { id: String(i) })));
      await Promise.all([1, 2, 3, 4].map((i) => call('flaky_post', { key: String(i) })));
      const afterCalls = fdCount(server.proc.pid);
      assert.ok(afterCalls <= before + 4, `fds ${before} -> ${afterCalls}`);
      const tools = await session.client.listTools();
      assert.ok(tools.tools.some((t) => t.name === 'get_product'));
    });
  });
}

describe('after the faults, a healthy upstream on the same server', () => {
  test('a server whose upstream hung answers normally once the upstream is replaced', async () => {
    const healthy = await startUpstream({ apiKey: 'test-api-key-0123456789' });
    const hang = await faultyUpstream(behaviours.hang);
    // Forward to the hanging upstream first, then to the healthy one, on one port.
    let target = hang.url;
    const proxy = net.createServer((client) => {
      const { port } = new URL(target);
      const upstreamSocket = net.connect(Number(port), '127.0.0.1');
      client.pipe(upstreamSocket).pipe(client);
      client.on('error', () => upstreamSocket.destroy());
      upstreamSocket.on('error', () => client.destroy());
    });
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const server = await startMcpd(`http://127.0.0.1:${proxy.address().port}`, {
      extra: { timeout_ms: TIMEOUT_MS, max_retries: 0 },
    });
    const session = await connectStreamable(server);
    try {
      const hung = await session.client.callTool({ name: 'get_product', arguments: { id: '1' } });
      assert.equal(hung.isError, true);
      target = healthy.url;
      const ok = await session.client.callTool({ name: 'search_products', arguments: { query: 'mug' } });
      assert.equal(ok.isError, undefined, text(ok));
      assert.ok(ok.structuredContent.count >= 1);
    } finally {
      await session.close();
      await server.stop();
      proxy.close();
      await hang.close();
      await healthy.close();
    }
  });
});
