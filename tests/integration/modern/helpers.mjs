// Shared helpers for the protocol revision 2026-07-28 tests: the official 2.x TypeScript client
// (@modelcontextprotocol/client) against the real mcpd binary (MCPD_BINARY), over stdio and
// Streamable HTTP, beside the 1.x SDK client (2025-era) where a test needs both.
//
// The 2.x client speaks 2025 unless told otherwise: `versionNegotiation` selects the era.
// `pin` sends only 2026-07-28 requests (server/discover first, no initialize, per-request
// _meta) and fails when the server does not offer it; `auto` probes with server/discover and
// falls back to initialize.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import { mcpdBinary } from '../http/helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const toolsDir = path.join(here, 'tools');
export const modernVersion = '2026-07-28';

export const negotiation = {
  pin: { mode: { pin: modernVersion } },
  auto: { mode: 'auto' },
};

// A minimal environment: nothing of the caller's leaks in (no MCPD_TOKEN, no LOG_FORMAT).
function serverEnv() {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    LOG_LEVEL: 'debug',
  };
}

// The elicitation handler of the test clients: answers every question with `name`, and
// records the questions it was asked.
export function answerElicitations(client, name) {
  const asked = [];
  client.setRequestHandler('elicitation/create', async (request) => {
    asked.push(request.params.message);
    return { action: 'accept', content: { name } };
  });
  return asked;
}

function newClient(mode, capabilities) {
  return new Client(
    { name: 'mcpd-modern-test', version: '1.0.0' },
    { capabilities, ...(mode ? { versionNegotiation: negotiation[mode] } : {}) },
  );
}

// A 2.x client connected to a fresh `mcpd serve --stdio` serving modern/tools.
// `mode`: 'pin', 'auto' or null (the client's default, 2025). stderr() is the server's log.
export async function connectStdio({ mode = 'pin', capabilities = { elicitation: {} } } = {}) {
  const transport = new StdioClientTransport({
    command: mcpdBinary(),
    args: ['serve', '--stdio', '--tools', toolsDir],
    env: serverEnv(),
    stderr: 'pipe',
  });
  let log = '';
  transport.stderr?.on('data', (chunk) => {
    log += chunk.toString();
  });
  const client = newClient(mode, capabilities);
  const asked = answerElicitations(client, 'Ada');
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`connect failed: ${error.message}\nserver log:\n${log}`);
  }
  return { client, transport, asked, stderr: () => log, close: () => client.close() };
}

// A 2.x client connected to a running `mcpd serve --http` (a Server of ../http/helpers.mjs).
export async function connectHttp(server, { mode = 'pin', capabilities = { elicitation: {} } } = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(server.url));
  const client = newClient(mode, capabilities);
  const asked = answerElicitations(client, 'Ada');
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`connect failed: ${error.message}\nserver log:\n${server.log}`);
  }
  return { client, transport, asked, close: () => client.close() };
}

// The text of a result's first content block (tools/call, prompts/get, resources/read).
export function firstText(result) {
  if (result.content) return result.content[0]?.text;
  if (result.messages) return result.messages[0]?.content?.text;
  if (result.contents) return result.contents[0]?.text;
  return undefined;
}

// Opens subscriptions/listen, checks the acknowledged filter against what server/discover
// advertised (a server honours only what it can deliver), closes it, and returns the filter.
export async function listenOnce(client, assert) {
  const capabilities = client.getDiscoverResult().capabilities;
  const subscription = await client.listen({ toolsListChanged: true, resourceSubscriptions: ['modern://readme'] });
  const honored = subscription.honoredFilter;
  assert.equal(typeof honored, 'object');
  if (honored.toolsListChanged) assert.equal(capabilities.tools?.listChanged, true);
  if (honored.resourceSubscriptions) {
    assert.equal(capabilities.resources?.subscribe, true);
    assert.deepEqual(honored.resourceSubscriptions, ['modern://readme']);
  }
  assert.equal('promptsListChanged' in honored, false, 'not asked for, so not honoured');
  await subscription.close();
  return honored;
}
