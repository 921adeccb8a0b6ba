// Descriptor `command`, `cwd` and `env` with path tricks, through the real binary: relative
// programs and `..` resolve against the descriptor's directory (never the server's or the
// child's working directory), a bare program name is looked up on mcpd's own PATH (a descriptor
// cannot set PATH or any other value, `env` only names variables to pass on), symlinks are
// followed, and what cannot work is a check-tools error or warning.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { checkTools, connectStdio, tempDir, text, writeJson, writeProbe } from './helpers.mjs';

const noArgs = { type: 'object', properties: {} };

function execTool(name, exec) {
  return { name, description: `Probe ${name}.`, inputSchema: noArgs, handler: { exec: { output: 'json', ...exec } } };
}

describe('exec paths at run time', () => {
  let dir;
  let desc;
  let work;
  let onPath;

  before(() => {
    dir = realpathSync(tempDir());
    desc = path.join(dir, 'desc');
    work = path.join(dir, 'work');
    onPath = path.join(dir, 'onpath');
    for (const d of [desc, path.join(desc, 'bin'), work, onPath]) mkdirSync(d, { recursive: true });
    writeProbe(path.join(desc, 'bin'));
    symlinkSync('probe.py', path.join(desc, 'bin', 'link.py'));
    // The same bare name in the child's cwd (never run) and on PATH (run when PATH has it).
    writeProbe(work, 'mcpd-sec-probe');
    writeProbe(onPath, 'mcpd-sec-probe');
    writeJson(path.join(desc, 'tools.json'), {
      tools: [
        execTool('relative', { command: ['bin/probe.py'], cwd: '../work' }),
        execTool('dotdot', { command: ['../desc/bin/probe.py'] }),
        execTool('symlink', { command: ['bin/link.py'] }),
        execTool('bare', { command: ['mcpd-sec-probe'], cwd: '../work' }),
        execTool('env', { command: ['bin/probe.py'], env: ['MCPD_SEC_PASSED'] }),
      ],
    });
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const call = (session, name) => session.client.callTool({ name, arguments: {} });

  test('relative programs and cwd with .. resolve against the descriptor directory; symlinks are followed', async () => {
    // The server runs from another directory: it must not matter.
    const session = await connectStdio({ args: ['--tools', desc], cwd: tmpdir() });
    try {
      const relative = await call(session, 'relative');
      assert.equal(relative.isError, undefined, text(relative));
      assert.equal(relative.structuredContent.script, path.join(desc, 'bin', 'probe.py'));
      assert.equal(realpathSync(relative.structuredContent.cwd), work);

      const dotdot = await call(session, 'dotdot');
      assert.equal(dotdot.isError, undefined, text(dotdot));
      assert.equal(realpathSync(dotdot.structuredContent.cwd), desc); // the default cwd

      const symlink = await call(session, 'symlink');
      assert.equal(symlink.isError, undefined, text(symlink));
    } finally {
      await session.close();
    }
  });

  test("a bare program name is looked up on mcpd's PATH, never in the child's cwd", async () => {
    const without = await connectStdio({ args: ['--tools', desc] });
    try {
      const result = await call(without, 'bare');
      assert.equal(result.isError, true);
      assert.match(text(result), /cannot run 'mcpd-sec-probe': No such file or directory/);
    } finally {
      await without.close();
    }
    const withPath = await connectStdio({
      args: ['--tools', desc],
      env: { PATH: `${onPath}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    });
    try {
      const result = await call(withPath, 'bare');
      assert.equal(result.isError, undefined, text(result));
      assert.equal(result.structuredContent.script, path.join(onPath, 'mcpd-sec-probe'));
    } finally {
      await withPath.close();
    }
  });

  test("env passes named variables of mcpd's environment and nothing else", async () => {
    const session = await connectStdio({
      args: ['--tools', desc],
      env: { MCPD_SEC_PASSED: 'yes', MCPD_SEC_HIDDEN: 'no', DJANGO_API_KEY: 'sec-api-key' },
    });
    try {
      const result = await call(session, 'env');
      assert.equal(result.isError, undefined, text(result));
      const env = result.structuredContent.env;
      assert.equal(env.MCPD_SEC_PASSED, 'yes');
      assert.equal(env.MCPD_SEC_HIDDEN, undefined);
      assert.equal(env.DJANGO_API_KEY, undefined);
      assert.equal(env.LOG_LEVEL, undefined);
      // mcpd's PATH (an interpreter shim such as pyenv's may put directories in front).
      assert.ok(env.PATH.endsWith(process.env.PATH ?? '/usr/bin:/bin'), env.PATH);
      assert.equal(env.MCP_TOOL, 'env');
    } finally {
      await session.close();
    }
  });
});

describe('check-tools on exec path tricks', () => {
  let dir;
  let diagnostics;
  let status;
  const toolLines = [];
  const inTool = (d, index) => d.line >= toolLines[index] && d.line < toolLines[index + 1];

  before(() => {
    dir = realpathSync(tempDir());
    mkdirSync(path.join(dir, 'bin'));
    writeProbe(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin', 'plain.sh'), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'bin', 'plain.sh'), 0o644);
    symlinkSync('gone.py', path.join(dir, 'bin', 'dangling.py'));
    const file = writeJson(path.join(dir, 'tools.json'), {
      tools: [
        execTool('program_placeholder', { command: ['{prog}'] }),
        execTool('missing', { command: ['bin/missing.py'] }),
        execTool('dangling', { command: ['bin/dangling.py'] }),
        execTool('not_executable', { command: ['bin/plain.sh'] }),
        execTool('cwd_placeholder', { command: ['bin/probe.py'], cwd: '{dir}' }),
        execTool('cwd_missing', { command: ['bin/probe.py'], cwd: '../no-such-dir' }),
        execTool('env_assignment', { command: ['bin/probe.py'], env: ['PATH=/tmp/evil'] }),
        execTool('env_loader', { command: ['bin/probe.py'], env: ['LD_PRELOAD'] }),
        execTool('env_secret', { command: ['bin/probe.py'], env: ['JWT_SECRET'] }),
        execTool('fine', { command: ['bin/probe.py'], cwd: '..', env: ['LANG'] }),
      ].map((tool) => ({ ...tool, inputSchema: { type: 'object', properties: { prog: { type: 'string' }, dir: { type: 'string' } } } })),
    });
    ({ status, diagnostics } = checkTools(file));
    // Diagnostics name file:line:column; tool i spans from its "name" line to the next one's.
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if (/^ {6}"name": /.test(line)) toolLines.push(index + 1);
      });
    toolLines.push(Infinity);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const expect = (index, rule, severity, pattern) => {
    const found = diagnostics.filter((d) => inTool(d, index) && d.rule === rule && d.severity === severity);
    assert.ok(found.some((d) => pattern.test(d.message)), `${rule} ${severity} ${pattern} in tool ${index}: ${JSON.stringify(diagnostics, null, 1)}`);
  };

  test('exit status 1: there are errors', () => assert.equal(status, 1));
  test('the program must be fixed', () => expect(0, 'handler', 'error', /program \(command\[0\]\) must be fixed/));
  test('a missing program', () => expect(1, 'missing-file', 'error', /does not exist/));
  test('a dangling symlink is a missing program', () => expect(2, 'missing-file', 'error', /dangling\.py' does not exist/));
  test('a program without the execute bit', () => expect(3, 'missing-file', 'error', /is not executable/));
  test('cwd is never substituted', () => expect(4, 'handler', 'error', /'cwd' is fixed/));
  test('a missing cwd', () => expect(5, 'missing-file', 'error', /no-such-dir' does not exist/));
  test('env names variables; it cannot assign PATH', () => expect(6, 'handler', 'error', /'PATH=\/tmp\/evil' is not a variable name/));
  test('passing LD_PRELOAD is a warning', () => expect(7, 'exec-env', 'warning', /changes which code the child loads/));
  test("passing one of mcpd's secrets is a warning", () => expect(8, 'exec-env', 'warning', /one of mcpd's own secrets/));
  test('cwd "..", and LANG, are fine', () => {
    assert.equal(toolLines.length, 11);
    const fine = diagnostics.filter((d) => inTool(d, 9));
    assert.deepEqual(fine, []);
  });
});
