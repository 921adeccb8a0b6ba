// exec handlers and hostile argument values: the real `mcpd serve --stdio` runs a probe that
// reports the argv, cwd and environment it received. Values never go through a shell, a value
// stays exactly one argv element (whatever it looks like), and "--" in the descriptor ends the
// program's options before a value.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { connectStdio, tempDir, text, writeJson, writeProbe } from './helpers.mjs';

describe('exec argument substitution', () => {
  let dir;
  let session;

  before(async () => {
    dir = tempDir();
    writeProbe(dir);
    const descriptors = writeJson(path.join(dir, 'tools.json'), {
      tools: [
        {
          name: 'probe',
          description: 'Report the argv the program receives.',
          inputSchema: {
            type: 'object',
            properties: { value: { type: 'string' }, other: { type: 'string' } },
            required: ['value'],
          },
          handler: {
            exec: {
              command: ['./probe.py', '--fixed', '{value}', '--name={value}', 'pre {value} post', '--', '{value}'],
              output: 'json',
            },
          },
        },
      ],
    });
    session = await connectStdio({ args: ['--tools', descriptors] });
  });

  after(async () => {
    await session?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const probe = async (args) => {
    const result = await session.client.callTool({ name: 'probe', arguments: args });
    return result;
  };

  const hostile = [
    '--output=/etc/passwd',
    '-rf',
    '-',
    '--',
    'a b  c',
    ' leading and trailing ',
    'line1\nline2\r\n',
    '\t',
    '$(touch PWNED)',
    '`touch PWNED`',
    '; touch PWNED',
    '&& touch PWNED |',
    "'single' \"double\" \\backslash",
    '*',
    '~',
    '$HOME',
    '> PWNED',
    'ünïcödé ✓',
    '{other}',
  ];

  for (const value of hostile) {
    test(`the value ${JSON.stringify(value)} reaches the program as one argv element`, async () => {
      const result = await probe({ value, other: 'SUBSTITUTED' });
      assert.equal(result.isError, undefined, text(result));
      assert.deepEqual(result.structuredContent.argv, [
        '--fixed',
        value,
        `--name=${value}`,
        `pre ${value} post`,
        '--',
        value,
      ]);
    });
  }

  test('no shell ran: nothing was created by the command substitutions above', () => {
    assert.equal(existsSync(path.join(dir, 'PWNED')), false);
    assert.equal(existsSync(path.join(process.cwd(), 'PWNED')), false);
  });

  test('a value is substituted once: a placeholder inside a value stays literal', async () => {
    const result = await probe({ value: '{other}', other: 'SUBSTITUTED' });
    assert.equal(result.structuredContent.argv[1], '{other}');
  });

  test('a value with a NUL character is refused, not cut short', async () => {
    const result = await probe({ value: 'safe\u0000--delete-everything' });
    assert.equal(result.isError, true);
    assert.match(text(result), /argument 2 would contain a NUL character/);
    // The server keeps serving.
    const next = await probe({ value: 'ok' });
    assert.equal(next.isError, undefined, text(next));
  });
});
