// A stand-in for a Django REST framework API, the upstream that http handlers call in the
// tests. It answers as DRF does (paginated lists, details, 404 {"detail": "Not found."}, 400
// validation errors, 201/204), plus endpoints for failure modes: 503-then-success, slow,
// non-JSON, oversized, and a health endpoint whose status the test flips. Every request is
// recorded (method, path, query, headers, body) so tests can assert what mcpd sent.
//
// In-process: `await startUpstream({tls, apiKey})`. Stand-alone (measurements):
//   node django_stub.mjs [--port N]
import http from 'node:http';
import https from 'node:https';

const products = [
  { id: 1, name: 'Blue mug', sku: 'MUG-1', price: '9.50', in_stock: true },
  { id: 2, name: 'Red mug', sku: 'MUG-2', price: '9.50', in_stock: false },
  { id: 3, name: 'Teapot', sku: 'TEA-1', price: '24.00', in_stock: true },
];

function send(res, status, body, type = 'application/json') {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startUpstream({ tls = null, apiKey = null, port = 0 } = {}) {
  const state = {
    requests: [],
    health: 200,
    healthHits: 0,
    abandoned: 0,
    flaky: new Map(), // key -> attempts so far
    apiKey,
  };

  function handle(req, res, raw) {
    const url = new URL(req.url, 'http://upstream');
    const query = {};
    for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
    const record = {
      method: req.method,
      url: req.url,
      path: url.pathname,
      query,
      headers: req.headers,
      body: raw,
    };
    state.requests.push(record);
    const path = url.pathname;
    let m;

    if (path === '/api/v1/core/stats/') {
      state.healthHits += 1;
      return send(res, state.health, state.health < 300 ? { status: 'ok', products: products.length } : { detail: 'down' });
    }
    if (state.apiKey && req.headers.authorization !== `Api-Key ${state.apiKey}`)
      return send(res, 401, { detail: 'Authentication credentials were not provided.' });

    if (path === '/api/v1/echo/' || path.startsWith('/api/v1/echo/')) {
      let json = null;
      try {
        json = raw ? JSON.parse(raw) : null;
      } catch {
        json = { unparsable: raw };
      }
      return send(res, 200, { method: req.method, path, url: req.url, query, json });
    }
    if (path === '/api/v1/products/') {
      if (req.method === 'GET') {
        const q = (url.searchParams.get('q') ?? '').toLowerCase();
        const inStock = url.searchParams.get('in_stock');
        let results = products.filter((p) => p.name.toLowerCase().includes(q) || p.sku.toLowerCase().includes(q));
        if (inStock === 'true') results = results.filter((p) => p.in_stock);
        const limit = Number(url.searchParams.get('limit') ?? 20);
        return send(res, 200, { count: results.length, next: null, previous: null, results: results.slice(0, limit) });
      }
      if (req.method === 'POST') {
        let body;
        try {
          body = JSON.parse(raw);
        } catch {
          return send(res, 400, { detail: 'JSON parse error' });
        }
        const errors = {};
        if (typeof body.name !== 'string' || !body.name) errors.name = ['This field is required.'];
        if (body.price === undefined) errors.price = ['This field is required.'];
        if (Object.keys(errors).length) return send(res, 400, errors);
        return send(res, 201, { id: 100 + state.requests.length, ...body });
      }
      return send(res, 405, { detail: `Method "${req.method}" not allowed.` });
    }
    if ((m = path.match(/^\/api\/v1\/(products|clients)\/([^/]+)\/$/))) {
      const id = decodeURIComponent(m[2]);
      if (m[1] === 'clients') {
        if (!/^\d+$/.test(id)) return send(res, 404, { detail: 'Not found.' });
        return send(res, 200, { id: Number(id), name: `Client ${id}`, email: `client${id}@example.com` });
      }
      const product = products.find((p) => String(p.id) === id);
      if (!product) return send(res, 404, { detail: 'Not found.' });
      if (req.method === 'DELETE') {
        res.writeHead(204);
        return res.end();
      }
      if (req.method === 'PATCH') return send(res, 200, { ...product, ...JSON.parse(raw || '{}') });
      return send(res, 200, product);
    }
    if ((m = path.match(/^\/api\/v1\/flaky\/([^/]+)\/$/))) {
      // The first `fail` requests (default 1) for a key answer 503, then 200.
      const key = m[1];
      const fail = Number(url.searchParams.get('fail') ?? 1);
      const seen = (state.flaky.get(key) ?? 0) + 1;
      state.flaky.set(key, seen);
      if (seen <= fail) return send(res, 503, { detail: 'Service temporarily unavailable.' });
      return send(res, 200, { ok: true, attempts: seen });
    }
    if (path === '/api/v1/slow/') {
      const ms = Number(url.searchParams.get('ms') ?? 3000);
      const timer = setTimeout(() => send(res, 200, { slept_ms: ms }), ms);
      res.on('close', () => {
        clearTimeout(timer);
        if (!res.writableFinished) state.abandoned += 1; // the caller stopped waiting
      });
      return;
    }
    if (path === '/api/v1/text/') return send(res, 200, 'plain text, not JSON\n', 'text/plain; charset=utf-8');
    if (path === '/api/v1/list/') return send(res, 200, [{ id: 1 }, { id: 2 }]);
    if (path === '/api/v1/html-error/')
      return send(res, 500, '<html><body><h1>Server Error (500)</h1>secret traceback</body></html>', 'text/html');
    if (path === '/api/v1/big/') return send(res, 200, { blob: 'x'.repeat(5 * 1024 * 1024) });
    return send(res, 404, { detail: 'Not found.' });
  }

  const listener = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, listener) : http.createServer(listener);
  // Connections are kept alive by mcpd's pool; don't let the test wait for them at close.
  const sockets = new Set();
  server.on(tls ? 'secureConnection' : 'connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const tlsErrors = [];
  server.on('tlsClientError', (e) => tlsErrors.push(e.message));
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = server.address().port;
  return {
    state,
    tlsErrors,
    port: actualPort,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${actualPort}`,
    requests: (filter = () => true) => state.requests.filter(filter),
    clear: () => (state.requests.length = 0),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections?.();
      }),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const i = process.argv.indexOf('--port');
  const upstream = await startUpstream({ port: i > 0 ? Number(process.argv[i + 1]) : 0 });
  // Stand-alone runs serve load tests: don't keep every request in memory.
  setInterval(() => (upstream.state.requests.length = 0), 1000).unref();
  console.log(upstream.url);
}
