// `mcpd check-tools` on http handlers, as a descriptor author would run it: the real binary,
// JSON report. The descriptors in tools/ are clean against a config that defines "django".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { mcpdBinary } from '../http/helpers.mjs';
import { tempDir, toolsDir, writeConfig } from './helpers.mjs';

function checkTools(...args) {
  const run = spawnSync(mcpdBinary(), ['check-tools', '--format', 'json', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
  });
  return { status: run.status, report: JSON.parse(run.stdout), stderr: run.stderr };
}

function diagnostics(report) {
  const found = [];
  for (const file of report.files ?? []) for (const d of file.diagnostics ?? []) found.push(d);
  for (const d of report.diagnostics ?? []) found.push(d);
  return found;
}

test('the test descriptors are clean with the upstream configured', () => {
  const dir = tempDir();
  try {
    const config = writeConfig(dir, 'http://127.0.0.1:9');
    const { status, report } = checkTools('--config', config, toolsDir);
    assert.equal(status, 0, JSON.stringify(report));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad method, relative path, reserved header, unknown placeholder and upstream', () => {
  const dir = tempDir();
  try {
    const config = writeConfig(dir, 'http://127.0.0.1:9');
    const file = path.join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify(
        {
          tools: [
            {
              name: 'bad_http',
              description: 'A broken http tool.',
              inputSchema: { type: 'object', properties: { id: { type: 'string' } } },
              handler: {
                http: {
                  upstream: 'billing',
                  method: 'FETCH',
                  path: 'api/{id}/',
                  query: { q: '{missing}' },
                  headers: { Authorization: 'Bearer {id}' },
                  body: { x: '{other}' },
                },
              },
            },
          ],
        },
        null,
        2,
      ),
    );
    const { status, report } = checkTools('--config', config, file);
    assert.equal(status, 1);
    const text = JSON.stringify(diagnostics(report));
    const rules = diagnostics(report).map((d) => d.rule ?? d.ruleId);
    for (const rule of ['unknown-upstream', 'handler', 'http-header', 'unknown-placeholder'])
      assert.ok(rules.includes(rule), `${rule} in ${text}`);
    assert.match(text, /'method' must be one of/);
    assert.match(text, /must start with '\/'/);
    assert.match(text, /missing/);
    assert.match(text, /other/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
