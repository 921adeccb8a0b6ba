// Shared helpers for the security tests: descriptors and configs written per test into a
// temporary directory, the real `mcpd serve --stdio` driven by the official MCP TypeScript SDK,
// `mcpd check-tools --format json`, and a tiny recording HTTP upstream on 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { mcpdBinary } from '../http/helpers.mjs';

export { Database, Server, mcpdBinary, post, waitFor } from '../http/helpers.mjs';

export function tempDir() {
  return mkdtempSync(path.join(tmpdir(), 'mcpd-security-'));
}

export function writeJson(file, value) {
  writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}

export function baseEnv(extra = {}) {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    ...extra,
  };
}

// `mcpd serve --stdio` as an SDK client; stderr (the logs) is collected.
export async function connectStdio({ args = [], env = {}, cwd } = {}) {
  const transport = new StdioClientTransport({
    command: mcpdBinary(),
    args: ['serve', '--stdio', ...args],
    env: baseEnv({ LOG_LEVEL: 'trace', ...env }),
    cwd,
    stderr: 'pipe',
  });
  let log = '';
  transport.stderr?.on('data', (chunk) => (log += chunk.toString()));
  const client = new Client({ name: 'mcpd-security-test', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    await new Promise((resolve) => setTimeout(resolve, 200)); // the rest of stderr
    throw new Error(`mcpd serve --stdio did not start: ${error.message}\n${log}`);
  }
  return { client, stderr: () => log, close: () => client.close() };
}

// A one-shot mcpd command: {status, stdout, stderr}.
export function runMcpd(args, env = {}) {
  const run = spawnSync(mcpdBinary(), args, { encoding: 'utf8', env: baseEnv(env), timeout: 60000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

// `mcpd check-tools --format json`: the exit status and every diagnostic.
export function checkTools(...args) {
  const run = runMcpd(['check-tools', '--format', 'json', ...args]);
  const report = JSON.parse(run.stdout);
  const found = [];
  for (const file of report.files ?? []) for (const d of file.diagnostics ?? []) found.push(d);
  for (const d of report.diagnostics ?? []) found.push(d);
  return { status: run.status, diagnostics: found, report };
}

export function text(result) {
  return (result.content ?? []).map((block) => block.text ?? '').join('');
}

// An HTTP server on 127.0.0.1 that records every request and answers with `respond(req, res)`
// (default: 200 {"ok": true, "path": ...}).
export async function startRecorder(respond) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (respond) return respond(req, res);
      const out = JSON.stringify({ ok: true, path: req.url });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(out);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// A program for exec handlers that reports what it received: argv (after argv[0]), the
// script's own path, cwd and environment, as one JSON object.
export const probeSource = `#!/usr/bin/env python3
import json, os, sys
sys.stdin.readline()
print(json.dumps({"argv": sys.argv[1:], "script": os.path.abspath(__file__), "cwd": os.getcwd(),
                  "env": dict(os.environ)}))
`;

export function writeProbe(dir, name = 'probe.py') {
  const file = path.join(dir, name);
  writeFileSync(file, probeSource);
  chmodSync(file, 0o755);
  return file;
}
