// Prompts, completion and resources over stdio with the SDK client.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { connect, toolsDir } from './stdio_helpers.mjs';

let server;

before(async () => {
  server = await connect();
});

after(async () => {
  await server?.close();
});

test('prompts/list and prompts/get fill the arguments in', async () => {
  const { prompts } = await server.client.listPrompts();
  const review = prompts.find((p) => p.name === 'review');
  assert.ok(review);
  assert.deepEqual(
    review.arguments.map((a) => [a.name, a.required]),
    [
      ['language', true],
      ['code', true],
    ],
  );
  const result = await server.client.getPrompt({ name: 'review', arguments: { language: 'go', code: 'x := 1' } });
  assert.equal(result.messages.length, 1);
  assert.equal(result.messages[0].role, 'user');
  assert.equal(result.messages[0].content.text, 'Review this go code:\nx := 1');
});

test('prompts/get without a required argument is an invalid-params error', async () => {
  await assert.rejects(server.client.getPrompt({ name: 'review', arguments: { language: 'go' } }), (e) => e.code === -32602);
});

test('completion/complete filters the static list by the typed prefix', async () => {
  const result = await server.client.complete({
    ref: { type: 'ref/prompt', name: 'review' },
    argument: { name: 'language', value: 'c' },
  });
  assert.deepEqual(result.completion.values, ['c', 'cpp', 'csharp']);
  const none = await server.client.complete({
    ref: { type: 'ref/prompt', name: 'review' },
    argument: { name: 'language', value: 'zz' },
  });
  assert.deepEqual(none.completion.values, []);
});

test('resources/list and resources/read of inline text', async () => {
  const { resources } = await server.client.listResources();
  assert.deepEqual(resources.map((r) => r.uri).sort(), ['test://inline', 'test://notes', 'test://pixel']);
  const result = await server.client.readResource({ uri: 'test://inline' });
  assert.equal(result.contents[0].uri, 'test://inline');
  assert.equal(result.contents[0].text, 'inline resource text');
  assert.equal(result.contents[0].mimeType, 'text/plain');
});

test('resources/read of a text file and of a binary file (base64 blob)', async () => {
  const notes = await server.client.readResource({ uri: 'test://notes' });
  assert.equal(notes.contents[0].text, readFileSync(path.join(toolsDir, 'data/notes.md'), 'utf8'));
  const pixel = await server.client.readResource({ uri: 'test://pixel' });
  assert.equal(pixel.contents[0].mimeType, 'image/png');
  assert.equal(pixel.contents[0].blob, readFileSync(path.join(toolsDir, 'data/pixel.png')).toString('base64'));
});

test('resource templates are listed and read with their variables filled in', async () => {
  const { resourceTemplates } = await server.client.listResourceTemplates();
  assert.deepEqual(
    resourceTemplates.map((t) => t.uriTemplate),
    ['test://greeting/{name}'],
  );
  const result = await server.client.readResource({ uri: 'test://greeting/Grace' });
  assert.equal(result.contents[0].text, 'Hello, Grace!');
});

test('reading an unknown resource is an error', async () => {
  await assert.rejects(server.client.readResource({ uri: 'test://missing' }), (e) => e.code === -32002);
});

test('resources/subscribe and unsubscribe are accepted', async () => {
  assert.deepEqual(await server.client.subscribeResource({ uri: 'test://notes' }), {});
  assert.deepEqual(await server.client.unsubscribeResource({ uri: 'test://notes' }), {});
});
