// The soak: the real `mcpd serve --http` (MCPD_BINARY) under a mixed load of every route and
// handler kind for SOAK_SECONDS (default 600) while tokens are created and revoked through the
// CLI. Every SOAK_SAMPLE seconds it prints the server's RSS, open fds, requests done, errors
// and latency (p50/p99) of the window; at the end it checks:
//   - no unexpected error (a revoked token's 401 is expected; any other non-success is not);
//   - fds flat: the last sample is at most 16 above the first sample after warm-up;
//   - RSS flat: the highest RSS of the second half is at most 10% + 8 MiB above the highest
//     of the first half after warm-up (a leak grows steadily; a warm cache does not);
//   - latency not drifting: the median p50 of the second half's windows is at most 2x the
//     first half's + 5 ms.
// Exits 0 when all hold, 1 otherwise. tests/bench/soak runs it; the suite runs a short one.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  Database,
  Server,
  connectLegacy,
  connectStreamable,
  mcpdBinary,
  openSession,
  post,
  tempDir,
} from '../integration/http/helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const sampleEvery = Number(process.env.SOAK_SAMPLE ?? Math.max(2, Math.round(seconds / 20)));
const warmup = Math.min(30, seconds / 5);
const MODERN = '2026-07-28';

// --- the upstream of the `http` tool ---------------------------------------------------------
function startUpstream() {
  const server = http.createServer((req, res) => {
    const match = /^\/items\/(-?\d+)$/.exec(req.url);
    const body = match ? { id: Number(match[1]), name: `item ${match[1]}` } : { detail: 'Not found.' };
    const text = JSON.stringify(body);
    res.writeHead(match ? 200 : 404, { 'Content-Type': 'application/json', 'Content-Length': text.length });
    res.end(text);
  });
  server.keepAliveTimeout = 30000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// --- bookkeeping -----------------------------------------------------------------------------
const stats = { done: 0, errors: 0, expected401: 0, latencies: [], problems: new Map() };
function problem(what) {
  stats.errors += 1;
  stats.problems.set(what, (stats.problems.get(what) ?? 0) + 1);
}
async function timed(what, fn) {
  const start = performance.now();
  try {
    await fn();
    stats.done += 1;
    stats.latencies.push(performance.now() - start);
  } catch (error) {
    problem(`${what}: ${String(error.message ?? error).slice(0, 160)}`);
  }
}
function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
  return { rss, fds: readdirSync(`/proc/${pid}/fd`).length };
}

// --- the kinds of work -----------------------------------------------------------------------
async function expectJson(response, what) {
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 100)}`);
  const reply = JSON.parse(text);
  if (reply.error) throw new Error(`${what}: ${JSON.stringify(reply.error)}`);
  if (reply.result?.isError) throw new Error(`${what}: tool error ${JSON.stringify(reply.result.content)}`);
  return reply.result;
}

function modernRequest(method, params, id) {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': { name: 'soak', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } };
}
function modernHeaders(body) {
  const headers = { 'MCP-Protocol-Version': MODERN, 'Mcp-Method': body.method };
  const name = body.method === 'resources/read' ? body.params.uri : body.params.name;
  if (name) headers['Mcp-Name'] = name;
  return headers;
}

// A 2026-07-28 client: no session, each request carries its envelope.
async function modernCalls(server, token, n, extraHeaders = {}) {
  const requests = [
    modernRequest('server/discover', {}, n),
    modernRequest('tools/call', { name: 'echo', arguments: { message: `m${n}` } }, n),
    modernRequest('tools/call', { name: 'work', arguments: { n } }, n),
    modernRequest('tools/call', { name: 'item', arguments: { id: n % 100 } }, n),
    modernRequest('resources/read', { uri: `soak://greeting/n${n}` }, n),
    modernRequest('prompts/get', { name: 'review', arguments: { code: 'x = 1' } }, n),
  ];
  for (const body of requests) {
    await timed(`2026 ${body.method}`, async () => {
      await expectJson(
        await post(server, body, { token, headers: { ...modernHeaders(body), ...extraHeaders } }),
        body.method,
      );
    });
  }
}

// A 2025 client over Streamable HTTP (the official SDK): a whole session, then DELETE.
async function streamableSession(server, token, n) {
  let session;
  await timed('streamable connect', async () => {
    session = await connectStreamable(server, { token });
  });
  if (!session) return;
  const { client } = session;
  await timed('streamable tools/list', () => client.listTools());
  await timed('streamable exec', async () => {
    const result = await client.callTool({ name: 'work', arguments: { n } });
    if (result.isError || result.structuredContent?.n !== n) throw new Error(JSON.stringify(result));
  });
  await timed('streamable progress', async () => {
    let progress = 0;
    const result = await client.callTool({ name: 'steps', arguments: {} }, undefined, {
      onprogress: () => (progress += 1),
    });
    if (result.isError || progress !== 2) throw new Error(`progress ${progress}: ${JSON.stringify(result)}`);
  });
  await timed('streamable http', async () => {
    const result = await client.callTool({ name: 'item', arguments: { id: n % 100 } });
    if (result.isError || result.structuredContent?.id !== n % 100) throw new Error(JSON.stringify(result));
  });
  await timed('streamable resources', async () => {
    await client.readResource({ uri: 'soak://file' });
    await client.readResource({ uri: 'soak://inline' });
  });
  await timed('streamable close', async () => {
    await session.transport.terminateSession();
    await session.close();
  });
}

// A 2024-11-05 client over the legacy HTTP+SSE transport.
async function legacySession(server, token, n) {
  let session;
  await timed('legacy connect', async () => {
    session = await connectLegacy(server, { token });
  });
  if (!session) return;
  await timed('legacy echo', async () => {
    const result = await session.client.callTool({ name: 'echo', arguments: { message: `l${n}` } });
    if (result.isError) throw new Error(JSON.stringify(result));
  });
  await timed('legacy prompts', () => session.client.getPrompt({ name: 'review', arguments: { code: 'y' } }));
  await timed('legacy close', () => session.close());
}

// A 2025 client by hand on an SSE GET stream of its session: opened, then closed.
async function sessionStream(server, token) {
  await timed('session stream', async () => {
    const id = await openSession(server, { token });
    const controller = new AbortController();
    const response = await fetch(server.url, {
      headers: {
        Accept: 'text/event-stream',
        Authorization: `Bearer ${token}`,
        'Mcp-Session-Id': id,
        'MCP-Protocol-Version': '2025-11-25',
      },
      signal: controller.signal,
    });
    if (response.status !== 200) throw new Error(`GET stream: HTTP ${response.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort();
    const closed = await fetch(server.url, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}`, 'Mcp-Session-Id': id, 'MCP-Protocol-Version': '2025-11-25' },
    });
    if (closed.status !== 200 && closed.status !== 204) throw new Error(`DELETE: HTTP ${closed.status}`);
  });
}

async function operational(server) {
  for (const route of ['/health', '/live', '/ready', '/mcp/health', '/metrics']) {
    await timed(`GET ${route}`, async () => {
      const response = await fetch(server.origin + route);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    });
  }
}

// Token churn: create a token with the CLI, use it, revoke it, and see it refused. Each
// churned token is another client (X-Forwarded-For, which mcpd honours from loopback): its
// refusals count against its own address in the failed-authentication limiter, not against
// the address every other worker shares.
async function churn(database, server, n) {
  let token;
  await timed('token create', async () => {
    token = database.createToken({ name: `churn-${n}` });
  });
  if (!token) return;
  const client = { 'X-Forwarded-For': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` };
  await modernCalls(server, token.token, n, client);
  await timed('token revoke', async () => database.revoke(token.id));
  // Refused once the auth cache forgets it (on SQLite: within the cache's 2-second lifetime).
  const deadline = Date.now() + 10000;
  for (;;) {
    const response = await post(server, modernRequest('tools/list', {}, 1), {
      token: token.token,
      headers: { 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'tools/list', ...client },
    });
    await response.arrayBuffer();
    if (response.status === 401) {
      stats.expected401 += 1;
      break;
    }
    if (response.status !== 200 || Date.now() > deadline) {
      problem(`revoked token: HTTP ${response.status}`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// --- the run ---------------------------------------------------------------------------------
async function main() {
  mcpdBinary();
  const upstream = await startUpstream();
  const dir = tempDir();
  const config = path.join(dir, 'mcpd.json');
  writeFileSync(
    config,
    JSON.stringify({
      upstreams: {
        soak: {
          base_url: `http://127.0.0.1:${upstream.address().port}`,
          auth_scheme: 'Api-Key',
          api_key_env: 'SOAK_API_KEY',
          timeout_ms: 5000,
          max_retries: 1,
          pool_size: 8,
        },
      },
    }),
  );
  const database = new Database();
  database.addUser('ada@example.com');
  const token = database.createToken({ name: 'soak' }).token;
  const server = await new Server({
    database,
    tools: path.join(here, 'soak-tools'),
    args: ['--config', config],
    env: {
      SOAK_API_KEY: 'soak-key',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      RATE_LIMIT_REQUESTS: '100000000',
      RATE_LIMIT_WINDOW: '1',
      // A sanitized build's quarantine of freed memory would look like growth: keep it small.
      ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'quarantine_size_mb=4',
    },
  }).start();
  // Keep only the tail of the server's log: ten minutes of it do not belong in memory.
  for (const stream of [server.proc.stdout, server.proc.stderr]) {
    stream.removeAllListeners('data');
    stream.on('data', (chunk) => (server.log = (server.log + chunk.toString()).slice(-65536)));
  }
  const pid = server.proc.pid;
  console.log(`soak: mcpd pid ${pid} on ${server.origin}, ${seconds} s, a sample every ${sampleEvery} s`);
  console.log('   t(s)   rss(MiB)  fds   requests  errors  p50(ms)  p99(ms)');

  const end = Date.now() + seconds * 1000;
  const running = () => Date.now() < end;
  const loop = async (fn) => {
    for (let n = 1; running(); n += 1) await fn(n);
  };
  const workers = [
    loop((n) => modernCalls(server, token, n)),
    loop((n) => modernCalls(server, token, n + 100000)),
    loop((n) => streamableSession(server, token, n)),
    loop((n) => legacySession(server, token, n)),
    loop(() => sessionStream(server, token)),
    loop(async () => {
      await operational(server);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }),
    loop(async (n) => {
      await churn(database, server, n);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }),
  ];

  const samples = [];
  const start = Date.now();
  const sampler = setInterval(() => {
    const sorted = stats.latencies.sort((a, b) => a - b);
    const sample = {
      t: (Date.now() - start) / 1000,
      ...procStats(pid),
      requests: stats.done,
      errors: stats.errors,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    };
    stats.latencies = [];
    samples.push(sample);
    console.log(
      `${sample.t.toFixed(0).padStart(7)} ${sample.rss.toFixed(1).padStart(10)} ${String(sample.fds).padStart(4)}` +
        ` ${String(sample.requests).padStart(10)} ${String(sample.errors).padStart(7)}` +
        ` ${sample.p50.toFixed(1).padStart(8)} ${sample.p99.toFixed(1).padStart(8)}`,
    );
  }, sampleEvery * 1000);

  await Promise.all(workers);
  clearInterval(sampler);
  const finalStats = procStats(pid);
  const exit = await server.stop();
  upstream.close();
  database.remove();

  // --- verdict ---
  const verdicts = [];
  const check = (ok, what) => verdicts.push({ ok, what });
  check(stats.errors === 0, `unexpected errors: ${stats.errors}`);
  check(exit.code === 0, `exit after SIGTERM: ${JSON.stringify(exit)}`);
  const settled = samples.filter((s) => s.t >= warmup);
  if (settled.length >= 4) {
    const half = Math.floor(settled.length / 2);
    const firstMax = Math.max(...settled.slice(0, half).map((s) => s.rss));
    const secondMax = Math.max(...settled.slice(half).map((s) => s.rss));
    check(secondMax <= firstMax * 1.1 + 8,
      `RSS flat: highest ${secondMax.toFixed(1)} MiB in the second half, ${firstMax.toFixed(1)} MiB in the first`);
    const firstFds = settled[0].fds;
    check(finalStats.fds <= firstFds + 16, `fds flat: ${firstFds} after warm-up, ${finalStats.fds} at the end`);
    const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const first = median(settled.slice(0, half).map((s) => s.p50));
    const last = median(settled.slice(half).map((s) => s.p50));
    check(last <= 2 * first + 5,
      `p50 not drifting: median ${first.toFixed(1)} ms in the first half, ${last.toFixed(1)} ms in the second`);
  } else {
    check(false, `too few samples after warm-up (${settled.length}): run longer`);
  }
  console.log(`soak: ${stats.done} requests, ${stats.expected401} revoked tokens refused as expected`);
  for (const [what, count] of stats.problems) console.log(`soak: unexpected x${count}: ${what}`);
  for (const v of verdicts) console.log(`soak: ${v.ok ? 'ok  ' : 'FAIL'} ${v.what}`);
  if (verdicts.some((v) => !v.ok)) {
    console.log(`soak: server log (tail):\n${server.log.split('\n').slice(-20).join('\n')}`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(`soak: ${error.stack ?? error}`);
  process.exit(1);
});
