// A TLS upstream with certificates made now by the openssl CLI: a private CA and a server
// certificate for 127.0.0.1/localhost. Trusted through the upstream's ca_file; refused without
// it (not in the system store) and when the name does not match.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { connectStreamable, startMcpd, startUpstream, tempDir, text } from './helpers.mjs';

let dir;

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

// A server key and certificate signed by the CA in `dir`, with these subjectAltNames.
function serverCert(name, san) {
  writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`,
    '-subj', `/CN=${name}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-sha256', '-extfile', `${name}.ext`);
  return {
    key: readFileSync(path.join(dir, `${name}.key`)),
    cert: readFileSync(path.join(dir, `${name}.pem`)),
  };
}

before(() => {
  dir = tempDir();
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
    '-days', '2', '-subj', '/CN=mcpd test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function callWith(upstreamUrl, extra) {
  const server = await startMcpd(upstreamUrl, { extra });
  const session = await connectStreamable(server);
  try {
    return await session.client.callTool({ name: 'search_products', arguments: { query: 'mug' } });
  } finally {
    await session.close();
    await server.stop();
  }
}

test('an https upstream signed by the ca_file CA is trusted (IP and host name)', async () => {
  const upstream = await startUpstream({ tls: serverCert('good', 'IP:127.0.0.1,DNS:localhost') });
  try {
    const caFile = path.join(dir, 'ca.pem');
    const byIp = await callWith(upstream.url, { ca_file: caFile });
    assert.equal(byIp.isError, undefined, text(byIp));
    assert.equal(byIp.structuredContent.count, 2);
    const byName = await callWith(`https://localhost:${upstream.port}`, { ca_file: caFile });
    assert.equal(byName.isError, undefined, text(byName));
    const [sent] = upstream.requests((r) => r.path === '/api/v1/products/');
    assert.equal(sent.headers['x-correlation-id'] !== undefined, true);
  } finally {
    await upstream.close();
  }
});

test('without ca_file the private CA is not trusted: the call fails, nothing is sent', async () => {
  const upstream = await startUpstream({ tls: serverCert('untrusted', 'IP:127.0.0.1,DNS:localhost') });
  try {
    const result = await callWith(upstream.url, {});
    assert.equal(result.isError, true);
    assert.match(text(result), /^upstream 'django' is unavailable: certificate refused \(.+\)$/);
    assert.equal(upstream.requests().length, 0);
  } finally {
    await upstream.close();
  }
});

test('a certificate for another name is refused even from a trusted CA', async () => {
  const upstream = await startUpstream({ tls: serverCert('other', 'DNS:other.example.com') });
  try {
    const result = await callWith(upstream.url, { ca_file: path.join(dir, 'ca.pem') });
    assert.equal(result.isError, true);
    assert.match(text(result), /certificate refused \(.*(hostname|IP address) mismatch\)/i);
    assert.equal(upstream.requests().length, 0);
  } finally {
    await upstream.close();
  }
});

test('an unreadable ca_file stops startup with a message naming the setting', async () => {
  const { Server } = await import('../http/helpers.mjs');
  const server = new Server({
    tools: path.join(path.dirname(new URL(import.meta.url).pathname), 'tools'),
    args: ['--config', (await import('./helpers.mjs')).writeConfig(dir, 'https://127.0.0.1:1', {
      ca_file: path.join(dir, 'missing.pem'),
    })],
    env: { SHOP_API_KEY: 'k' },
  });
  const { code } = await server.exited;
  assert.equal(code, 1);
  assert.match(server.log, /upstreams\.django\.ca_file: cannot load/);
});
