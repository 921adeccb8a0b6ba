// Resource URIs with path tricks (.., %2e%2e, absolute paths, backslashes, NUL) against
// resource templates backed by files, exec handlers and http handlers, through the real
// `mcpd serve --stdio`: file templates never leave their directory, exec values stay one argv
// element, http values stay inside one path segment.
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { connectStdio, startRecorder, tempDir, writeJson, writeProbe } from './helpers.mjs';

describe('resource templates and hostile URIs', () => {
  let dir;
  let recorder;
  let session;

  before(async () => {
    dir = realpathSync(tempDir());
    recorder = await startRecorder();
    writeFileSync(path.join(dir, 'secret.txt'), 'TOP SECRET outside the directory');
    mkdirSync(path.join(dir, 'pub', 'ok'), { recursive: true });
    writeFileSync(path.join(dir, 'pub', 'readme.txt'), 'public readme');
    writeFileSync(path.join(dir, 'pub', 'ok', 'secret.txt'), 'public ok');
    writeProbe(dir);
    const descriptors = writeJson(path.join(dir, 'tools.json'), {
      resourceTemplates: [
        { uriTemplate: 'files://{name}', name: 'files', mimeType: 'text/plain', file: 'pub/{name}' },
        { uriTemplate: 'two://{a}-{b}', name: 'two', mimeType: 'text/plain', file: 'pub/{a}{b}/secret.txt' },
        {
          uriTemplate: 'run://{arg}',
          name: 'run',
          mimeType: 'application/json',
          handler: { exec: { command: ['./probe.py', '--', '{arg}'], output: 'json' } },
        },
        {
          uriTemplate: 'api://{id}',
          name: 'api',
          mimeType: 'application/json',
          handler: { http: { upstream: 'rec', method: 'GET', path: '/items/{id}/' } },
        },
      ],
    });
    const config = writeJson(path.join(dir, 'mcpd.json'), { upstreams: { rec: { base_url: recorder.url, max_retries: 0 } } });
    session = await connectStdio({ args: ['--tools', descriptors, '--config', config] });
  });

  after(async () => {
    await session?.close();
    await recorder?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const read = (uri) => session.client.readResource({ uri });
  const contentText = (result) => result.contents.map((c) => c.text ?? '').join('');

  async function refused(uri) {
    await assert.rejects(read(uri), (error) => {
      assert.doesNotMatch(String(error.message), /TOP SECRET/);
      assert.match(String(error.message), /not found|Resource/i);
      return true;
    }, uri);
  }

  test('a file template reads files inside its directory', async () => {
    assert.equal(contentText(await read('files://readme.txt')), 'public readme');
    assert.equal(contentText(await read('two://o-k')), 'public ok');
  });

  for (const uri of [
    'files://..',
    'files://.',
    'files://%2e%2e',
    'files://%2E%2E',
    'files://..%2fsecret.txt',
    'files://%2e%2e%2fsecret.txt',
    'files:///etc/passwd',
    'files://%2fetc%2fpasswd',
    'files://..%5csecret.txt',
    'files://..\\secret.txt',
    'files://readme.txt%00.png',
    'two://.-.', // two values that each pass, joined into a '..' component
    'two://%2e-%2e',
    'two://..-..',
  ]) {
    test(`${uri} is refused as not found`, () => refused(uri));
  }

  test('the server keeps serving after refusals', async () => {
    assert.equal(contentText(await read('files://readme.txt')), 'public readme');
  });

  test('an exec template gets the decoded value as one argv element after --', async () => {
    for (const [uri, value] of [
      ['run://--output=%2fetc%2fpasswd', '--output=/etc/passwd'],
      ['run://%2e%2e%2f%2e%2e', '../..'],
      ['run://a%20b%3b%20rm%20-rf', 'a b; rm -rf'],
    ]) {
      const result = await read(uri);
      assert.deepEqual(JSON.parse(contentText(result)).argv, ['--', value], uri);
    }
  });

  test('an http template keeps a value inside one path segment and refuses dot segments', async () => {
    const logged = () => session.stderr().split('\n').filter((line) => /'\.' or '\.\.' segment/.test(line)).length;
    const loggedBefore = logged();
    const result = await read('api://a%2fb%3fc');
    assert.equal(JSON.parse(contentText(result)).path, '/items/a%2Fb%3Fc/');
    for (const uri of ['api://..', 'api://%2e%2e', 'api://.']) {
      const before = recorder.requests.length;
      let seen;
      try {
        seen = JSON.stringify(await read(uri));
      } catch (error) {
        seen = String(error.message);
      }
      // The reason is logged; the client learns only that the read failed.
      assert.match(seen, /resource handler failed/, uri);
      assert.equal(recorder.requests.length, before, `${uri} reached the upstream`);
    }
    // The server's stderr reaches this process asynchronously: wait for the third line.
    const deadline = Date.now() + 10000;
    while (logged() - loggedBefore < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(logged() - loggedBefore, 3, session.stderr());
  });
});
