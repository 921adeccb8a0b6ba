// Shared helpers for the HTTP integration tests: start the real `mcpd serve --http`
// (MCPD_BINARY) on a free port (--listen 127.0.0.1:0, port read back from MCPD_PORT_FILE),
// make users and tokens with the real CLI against a temporary SQLite database, and connect the
// official MCP TypeScript SDK over Streamable HTTP or the legacy HTTP+SSE transport.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const toolsDir = path.join(here, 'tools');

export function mcpdBinary() {
  const binary = process.env.MCPD_BINARY;
  if (!binary) throw new Error('MCPD_BINARY is not set (run these tests through ctest)');
  return binary;
}

export function tempDir() {
  return mkdtempSync(path.join(tmpdir(), 'mcpd-http-'));
}

// A minimal environment: nothing of the caller's leaks in (no MCPD_TOKEN, no LOG_FORMAT).
function baseEnv(extra) {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    ...extra,
  };
}

// Polls `check` every 25 ms until it returns a truthy value or `ms` pass (generous bounds: the
// machine may be busy; nothing asserts on speed).
export async function waitFor(check, { ms = 30000, what = 'condition' } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function processGone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return e.code === 'ESRCH';
  }
}

// --- the CLI and its database ---

export class Database {
  constructor() {
    this.dir = tempDir();
    this.file = path.join(this.dir, 'mcpd.db');
    this.url = `sqlite://${this.file}`;
  }

  mcpd(...args) {
    return execFileSync(mcpdBinary(), [...args, '--database', this.url], {
      env: baseEnv({}),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  // A fresh database with one user and one token of hers that allows every tool.
  static withToken({ user = 'ada@example.com', name = 'test' } = {}) {
    const db = new Database();
    db.addUser(user);
    return { db, token: db.createToken({ user, name }).token };
  }

  addUser(email) {
    this.mcpd('user', 'add', email);
  }

  // `mcpd token create --json`: {id, name, user, token, allowed_tools, expires_at, created_at}.
  createToken({ user = 'ada@example.com', name = 'test', tools, expiresDays } = {}) {
    const args = ['token', 'create', '--user', user, '--name', name, '--json'];
    if (tools) args.push('--tools', tools.join(','));
    if (expiresDays) args.push('--expires-days', String(expiresDays));
    return JSON.parse(this.mcpd(...args));
  }

  revoke(id) {
    this.mcpd('token', 'revoke', String(id));
  }

  // Moves a token's expiry into the past (the CLI only issues tokens that expire in >= 1 day).
  expire(id) {
    execFileSync('python3', [
      '-c',
      'import sqlite3, sys, time\n' +
        'db = sqlite3.connect(sys.argv[1])\n' +
        'db.execute("UPDATE tokens SET expires_at = ? WHERE id = ?", (int(time.time()) - 60, int(sys.argv[2])))\n' +
        'db.commit()',
      this.file,
      String(id),
    ]);
  }

  remove() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// --- the server ---

export class Server {
  // `auth`: a Database to check tokens against, or null for --no-auth.
  constructor({ database = null, args = [], env = {}, tools = toolsDir } = {}) {
    this.dir = tempDir();
    this.portFile = path.join(this.dir, 'port');
    const serverArgs = ['serve', '--http', '--listen', '127.0.0.1:0', '--tools', tools];
    if (database) serverArgs.push('--database', database.url);
    else serverArgs.push('--no-auth');
    this.log = '';
    const level = env.LOG_LEVEL ?? 'debug';
    this.logsInfo = ['trace', 'debug', 'info'].includes(level);
    this.proc = spawn(mcpdBinary(), [...serverArgs, ...args], {
      env: baseEnv({ MCPD_PORT_FILE: this.portFile, LOG_LEVEL: level, ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (chunk) => (this.log += chunk.toString()));
    this.proc.stderr.on('data', (chunk) => (this.log += chunk.toString()));
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  async start() {
    let exit = null;
    this.exited.then((e) => (exit = e));
    await waitFor(() => exit || (existsSync(this.portFile) && readFileSync(this.portFile, 'utf8').endsWith('\n')), {
      what: 'the server to listen',
    });
    // The startup lines are written before the port file, but reach this process through a
    // pipe, possibly after the file is seen: wait for the last of them, so tests can read them.
    if (this.logsInfo)
      await waitFor(() => exit || /listening on http:\/\//.test(this.log), { ms: 10000, what: "the 'listening on' line" });
    if (exit) throw new Error(`mcpd exited (${JSON.stringify(exit)}):\n${this.log}`);
    this.port = Number(readFileSync(this.portFile, 'utf8').trim());
    this.origin = `http://127.0.0.1:${this.port}`;
    this.url = `${this.origin}/mcp`;
    return this;
  }

  // Waits for the process to exit by itself (after a signal the test sent).
  async wait() {
    const result = await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
    return result;
  }

  async stop(signal = 'SIGTERM') {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    const result = await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
    return result;
  }
}

export async function startServer(options) {
  return new Server(options).start();
}

// --- clients ---

export function bearer(token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export async function connectStreamable(server, { token, capabilities = {}, headers = {} } = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: { headers: { ...bearer(token), ...headers } },
  });
  const client = new Client({ name: 'mcpd-http-test', version: '1.0.0' }, { capabilities });
  await client.connect(transport);
  return { client, transport, close: () => client.close() };
}

export async function connectLegacy(server, { token, path: ssePath = '/sse', capabilities = {} } = {}) {
  const transport = new SSEClientTransport(new URL(server.origin + ssePath), {
    requestInit: { headers: bearer(token) },
  });
  const client = new Client({ name: 'mcpd-http-test', version: '1.0.0' }, { capabilities });
  await client.connect(transport);
  return { client, transport, close: () => client.close() };
}

// Raw JSON-RPC over Streamable HTTP, for what the SDK would never send.
export const mcpHeaders = {
  'Content-Type': 'application/json',
  Accept: 'application/json, text/event-stream',
};

export async function post(server, body, { token, headers = {}, path: target = '/mcp' } = {}) {
  return fetch(server.origin + target, {
    method: 'POST',
    headers: { ...mcpHeaders, ...bearer(token), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function initializeRequest(version = '2025-11-25', capabilities = {}) {
  return {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: version, capabilities, clientInfo: { name: 'raw', version: '1' } },
  };
}

// Opens a session by hand; returns its id.
export async function openSession(server, { token, version = '2025-11-25', capabilities = {} } = {}) {
  const response = await post(server, initializeRequest(version, capabilities), { token });
  if (response.status !== 200) throw new Error(`initialize: HTTP ${response.status}: ${await response.text()}`);
  await response.json();
  const session = response.headers.get('mcp-session-id');
  const ack = await post(
    server,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { token, headers: { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': version } },
  );
  if (ack.status !== 202) throw new Error(`initialized: HTTP ${ack.status}`);
  return session;
}

// Reads Server-Sent Events from a fetch response body until `until(event)` is true (then the
// stream is cancelled unless `keepOpen`) or the stream ends. Returns the events
// ({id, event, data, retry}).
export async function readEvents(response, { until = () => false, ms = 30000, keepOpen = false } = {}) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const events = [];
  let buffer = '';
  const timer = setTimeout(() => reader.cancel().catch(() => {}), ms);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = { id: undefined, event: 'message', data: undefined, comment: false };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) event.comment = true;
          else if (line.startsWith('id: ')) event.id = line.slice(4);
          else if (line.startsWith('event: ')) event.event = line.slice(7);
          else if (line.startsWith('data: ')) event.data = (event.data ?? '') + line.slice(6);
          else if (line.startsWith('retry: ')) event.retry = Number(line.slice(7));
        }
        events.push(event);
        if (until(event)) {
          if (keepOpen) reader.releaseLock();
          else await reader.cancel().catch(() => {});
          return events;
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

// A raw TCP exchange: sends `bytes`, resolves with everything received until the server
// closes the connection (or `ms` pass). The client never closes its side first unless
// `halfClose` (a half-closed client counts as gone).
export function rawRequest(port, bytes, { ms = 30000, halfClose = false } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received, closed: false });
    }, ms);
    socket.on('connect', () => {
      if (bytes) socket.write(bytes);
      if (halfClose) socket.end();
    });
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', (e) => {
      clearTimeout(timer);
      if (e.code === 'ECONNRESET') resolve({ received, closed: true, reset: true });
      else reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received, closed: true });
    });
  });
}
