// Shared helpers for the fault injection tests: what /proc says about processes and file
// descriptors, raw 2026-07-28 and legacy requests (the load), and a PostgreSQL cluster of the
// test's own that can be stopped and started again on the same port.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { bearer, mcpHeaders } from '../http/helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const toolsDir = path.join(here, 'tools');
export const VERSION = '2026-07-28';

// --- /proc ---

function readProc(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null; // the process went away meanwhile
  }
}

function pids() {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

// Processes whose command line contains `marker` (not counting this test's own process).
export function processesWith(marker) {
  return pids().filter((pid) => {
    if (pid === process.pid) return false;
    const cmdline = readProc(`/proc/${pid}/cmdline`);
    return cmdline !== null && cmdline.replaceAll('\0', ' ').includes(marker);
  });
}

// Children of `parent` in state Z (exited, not reaped).
export function zombiesOf(parent) {
  return pids().filter((pid) => {
    const stat = readProc(`/proc/${pid}/stat`);
    if (stat === null) return false;
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' && Number(ppid) === parent;
  });
}

export function fdCount(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function fdList(pid) {
  return readdirSync(`/proc/${pid}/fd`)
    .map((fd) => {
      try {
        return `${fd} -> ${execFileSync('readlink', [`/proc/${pid}/fd/${fd}`], { encoding: 'utf8' }).trim()}`;
      } catch {
        return `${fd} -> ?`;
      }
    })
    .join('\n');
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- requests ---

// A 2026-07-28 tools/call: no session, everything in the request.
export function modernCall(name, args = {}, id = 1) {
  return {
    body: {
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: {
        name,
        arguments: args,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': VERSION,
          'io.modelcontextprotocol/clientInfo': { name: 'faults', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    },
    headers: { 'MCP-Protocol-Version': VERSION, 'Mcp-Method': 'tools/call', 'Mcp-Name': name },
  };
}

// POSTs a JSON-RPC message; resolves to {status, body} (body parsed when JSON), or
// {status: 0, error} when the connection failed. Never throws.
export async function send(origin, { body, headers = {} }, { token, ms = 30000 } = {}) {
  try {
    const response = await fetch(origin + '/mcp', {
      method: 'POST',
      headers: { ...mcpHeaders, ...bearer(token), ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(ms),
    });
    const text = await response.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // SSE or plain text: kept as text
    }
    return { status: response.status, body: parsed };
  } catch (error) {
    return { status: 0, error: String(error) };
  }
}

export async function getStatus(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10000) });
    await response.text();
    return response.status;
  } catch {
    return 0;
  }
}

// --- a PostgreSQL cluster of the test's own (tests/pg/pg_ctl.sh) ---

const pgCtlScript = path.resolve(here, '../../pg/pg_ctl.sh');

function pgBindir() {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(`${dir}/pg_ctl`)) return dir;
  }
  throw new Error('no PostgreSQL server found (as tests/pg/pg_ctl.sh looks for it)');
}

export class PgCluster {
  constructor(dir) {
    this.dir = dir;
  }

  // initdb + start on a free port (pg_ctl.sh), database mcpd_test.
  start() {
    execFileSync('bash', [pgCtlScript, 'start', this.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.url = readFileSync(path.join(this.dir, 'url'), 'utf8').trim();
    this.port = Number(new URL(this.url).port);
    this.bindir = pgBindir();
    return this;
  }

  // Runs pg_ctl (as the cluster's owner when we are root) without blocking the event loop.
  async pgCtl(...args) {
    const command = [`${this.bindir}/pg_ctl`, '-D', path.join(this.dir, 'data'), ...args];
    if (process.getuid() === 0) await promisify(execFile)('runuser', ['-u', 'postgres', '--', ...command]);
    else await promisify(execFile)(command[0], command.slice(1));
  }

  // `pg_ctl stop -m fast`: connections are closed, the server is gone.
  stopFast() {
    return this.pgCtl('-m', 'fast', '-w', '-t', '60', 'stop');
  }

  // Starts the stopped cluster again on the same port with the same data.
  restart() {
    const options = `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${path.join(this.dir, 'sock')} ` +
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200';
    return this.pgCtl('-l', path.join(this.dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start');
  }

  remove() {
    try {
      execFileSync('bash', [pgCtlScript, 'stop', this.dir], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
