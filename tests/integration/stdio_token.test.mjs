// MCPD_TOKEN on stdio: the session runs as the token's user with its tool allow-list, and a
// token revoked during the session stops working within seconds. Users and tokens are made
// with the real CLI (mcpd user add, mcpd token create/revoke) in a private SQLite database.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { connect, mcpdBinary, removeDir, serverEnv, tempDir, waitFor } from './stdio_helpers.mjs';

const dir = tempDir();
const database = `sqlite://${path.join(dir, 'mcpd.db')}`;
let token;

function cli(...args) {
  const run = spawnSync(mcpdBinary(), [...args, '--database', database], {
    env: serverEnv(),
    encoding: 'utf8',
    timeout: 30000,
  });
  assert.equal(run.status, 0, `mcpd ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

before(() => {
  cli('user', 'add', 'ann@example.com', '--name', 'Ann');
  token = JSON.parse(cli('token', 'create', '--user', 'ann@example.com', '--name', 'laptop', '--tools', 'echo,exec_text', '--json'));
});

after(() => removeDir(dir));

test('the session sees only the tools the token allows', async () => {
  const server = await connect({ args: ['--database', database], env: { MCPD_TOKEN: token.token } });
  try {
    const { tools } = await server.client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['echo', 'exec_text']);
    const allowed = await server.client.callTool({ name: 'echo', arguments: { message: 'ok' } });
    assert.notEqual(allowed.isError, true);
    await assert.rejects(server.client.callTool({ name: 'exec_json', arguments: { name: 'x' } }));
    // The token itself never appears in the log.
    assert.equal(server.stderr().includes(token.token), false);
  } finally {
    await server.close();
  }
});

test('an invalid MCPD_TOKEN stops startup, exit 1', () => {
  const run = spawnSync(mcpdBinary(), ['serve', '--stdio', '--database', database], {
    env: serverEnv({ MCPD_TOKEN: 'mcpd_not_a_real_token' }),
    input: '',
    encoding: 'utf8',
    timeout: 30000,
  });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /^mcpd: error: MCPD_TOKEN: /m);
  assert.equal(run.stderr.includes('mcpd_not_a_real_token'), false, 'the token is not echoed');
});

test('revoking the token during a session takes effect within seconds', async () => {
  const second = JSON.parse(cli('token', 'create', '--user', 'ann@example.com', '--name', 'ci', '--json'));
  const server = await connect({ args: ['--database', database], env: { MCPD_TOKEN: second.token } });
  try {
    assert.ok((await server.client.listTools()).tools.length > 2, 'all tools before revocation');
    cli('token', 'revoke', String(second.id));
    await waitFor(async () => (await server.client.listTools()).tools.length === 0, {
      what: 'the revoked token to lose its tools',
    });
    const refused = server.client.callTool({ name: 'echo', arguments: { message: 'x' } });
    await assert.rejects(refused, /revoked/);
  } finally {
    await server.close();
  }
});
