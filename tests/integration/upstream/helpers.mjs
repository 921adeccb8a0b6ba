// Shared helpers for the upstream (http handler) tests: a config file naming the stand-in
// Django API (django_stub.mjs), the real `mcpd serve --http` / `--stdio` on the descriptors in
// tools/, and the official MCP TypeScript SDK as the client.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { Server, mcpdBinary, tempDir } from '../http/helpers.mjs';

export { Database, connectStreamable, tempDir, waitFor } from '../http/helpers.mjs';
export { startUpstream } from './django_stub.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const toolsDir = path.join(here, 'tools');
export const apiKey = 'test-api-key-0123456789';

// An mcpd.json whose upstream "django" is `baseUrl`; `extra` overrides its fields.
export function writeConfig(dir, baseUrl, extra = {}) {
  const file = path.join(dir, 'mcpd.json');
  const django = {
    base_url: baseUrl,
    auth_scheme: 'Api-Key',
    api_key_env: 'SHOP_API_KEY',
    timeout_ms: 5000,
    max_retries: 2,
    pool_size: 4,
    health_path: '/api/v1/core/stats/',
    ...extra,
  };
  writeFileSync(file, JSON.stringify({ upstreams: { django } }, null, 2));
  return file;
}

// `mcpd serve --http` with the config for `baseUrl` (auth: a Database, else --no-auth).
export async function startMcpd(baseUrl, { database = null, extra = {}, env = {} } = {}) {
  const dir = tempDir();
  const config = writeConfig(dir, baseUrl, extra);
  return new Server({
    database,
    tools: toolsDir,
    args: ['--config', config],
    env: { SHOP_API_KEY: apiKey, ...env },
  }).start();
}

// `mcpd serve --stdio` with the given arguments and environment, as an SDK client.
export async function connectStdio({ args = [], env = {} } = {}) {
  const transport = new StdioClientTransport({
    command: mcpdBinary(),
    args: ['serve', '--stdio', '--tools', toolsDir, ...args],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      TMPDIR: process.env.TMPDIR ?? '/tmp',
      LOG_LEVEL: 'debug',
      ...env,
    },
    stderr: 'pipe',
  });
  let log = '';
  transport.stderr?.on('data', (chunk) => (log += chunk.toString()));
  const client = new Client({ name: 'mcpd-upstream-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => log, close: () => client.close() };
}

export function text(result) {
  return (result.content ?? []).map((block) => block.text ?? '').join('');
}
