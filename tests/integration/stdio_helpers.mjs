// Shared helpers for the stdio integration tests: start the real mcpd binary (MCPD_BINARY)
// with the official MCP TypeScript SDK's Client and StdioClientTransport, or as a raw child
// process for tests that need to send bytes the SDK never would.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const toolsDir = path.join(here, 'tools');
export const examplesDir = path.resolve(here, '..', '..', 'examples');

export function mcpdBinary() {
  const binary = process.env.MCPD_BINARY;
  if (!binary) throw new Error('MCPD_BINARY is not set (run these tests through ctest)');
  return binary;
}

// A minimal environment: nothing of the caller's leaks in (no MCPD_TOKEN, no LOG_FORMAT).
export function serverEnv(extra = {}) {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    LOG_LEVEL: 'debug',
    ...extra,
  };
}

// Connects an SDK client to a fresh `mcpd serve --stdio`. `capabilities` are the client's;
// the returned stderr() gives the server's log so far (for failure messages).
export async function connect({ capabilities = {}, args = [], env = {} } = {}) {
  const transport = new StdioClientTransport({
    command: mcpdBinary(),
    args: ['serve', '--stdio', '--tools', toolsDir, ...args],
    env: serverEnv(env),
    stderr: 'pipe',
  });
  let log = '';
  transport.stderr?.on('data', (chunk) => {
    log += chunk.toString();
  });
  const client = new Client({ name: 'mcpd-integration', version: '1.0.0' }, { capabilities });
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => log,
    close: () => client.close(),
  };
}

export function tempDir() {
  return mkdtempSync(path.join(tmpdir(), 'mcpd-it-'));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export function processGone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return e.code === 'ESRCH';
  }
}

// Polls `check` every 25 ms until it returns a truthy value or `ms` pass (generous bounds:
// the machine may be busy; nothing asserts on speed).
export async function waitFor(check, { ms = 30000, what = 'condition' } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function readPid(file) {
  return waitFor(
    () => {
      try {
        const text = readFileSync(file, 'utf8').trim();
        return text ? Number(text) : null;
      } catch {
        return null;
      }
    },
    { what: `pid file ${file}` },
  );
}

export function textOf(result) {
  return result.content
    .filter((block) => block.type === 'text')
    .map((block) => block.text)
    .join('\n');
}

// mcpd as a plain child process speaking newline-delimited JSON-RPC.
export class RawServer {
  constructor({ args = ['--tools', toolsDir], env = {}, stdin = 'pipe' } = {}) {
    this.child = spawn(mcpdBinary(), ['serve', '--stdio', ...args], {
      env: serverEnv(env),
      stdio: [stdin, 'pipe', 'pipe'],
    });
    this.stdout = '';
    this.stderr = '';
    this.lines = []; // every complete stdout line, raw
    this.waiters = [];
    this.child.stdout.on('data', (chunk) => {
      this.stdout += chunk.toString();
      let newline;
      while ((newline = this.stdout.indexOf('\n')) >= 0) {
        this.lines.push(this.stdout.slice(0, newline));
        this.stdout = this.stdout.slice(newline + 1);
      }
      this.wake();
    });
    this.child.stderr.on('data', (chunk) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.wake();
        resolve({ code, signal });
      });
    });
  }

  wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  sendRaw(text) {
    this.child.stdin.write(text);
  }

  send(message) {
    this.sendRaw(JSON.stringify(message) + '\n');
  }

  request(id, method, params) {
    this.send(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
  }

  messages() {
    return this.lines.map((line) => JSON.parse(line));
  }

  // Waits until some stdout message satisfies `predicate`; returns it.
  async waitForMessage(predicate, what = 'a message', ms = 30000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages().find(predicate);
      if (found) return found;
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(`no ${what} from mcpd; stderr:\n${this.stderr}`);
      await new Promise((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  response(id) {
    return this.waitForMessage((m) => m.id === id && !('method' in m), `response ${JSON.stringify(id)}`);
  }

  async initialize() {
    this.request(0, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'raw', version: '1' },
    });
    const reply = await this.response(0);
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return reply;
  }

  async close() {
    this.child.stdin.end();
    return this.exited;
  }

  kill() {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
