// Server-to-client requests relayed from an exec tool in mcp mode: the tool asks, the SDK
// client's request handler answers, and the answer comes back in the tool's result.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

import { connect } from './stdio_helpers.mjs';

let server;
const seen = [];

before(async () => {
  server = await connect({
    capabilities: { roots: { listChanged: true }, elicitation: {}, sampling: {} },
  });
  const { client } = server;
  client.setRequestHandler(ListRootsRequestSchema, async (request) => {
    seen.push(request.method);
    return { roots: [{ uri: 'file:///work/project', name: 'project' }] };
  });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    seen.push(request.method);
    assert.equal(request.params.message, 'What is your name?');
    return { action: 'accept', content: { name: 'Ada Lovelace' } };
  });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    seen.push(request.method);
    return {
      role: 'assistant',
      content: { type: 'text', text: 'Hello from the model' },
      model: 'test-model',
      stopReason: 'endTurn',
    };
  });
});

after(async () => {
  await server?.close();
});

test('roots/list is relayed to the client and its answer reaches the tool', async () => {
  const result = await server.client.callTool({ name: 'ask_client', arguments: { what: 'roots' } });
  assert.notEqual(result.isError, true, JSON.stringify(result));
  assert.ok(seen.includes('roots/list'));
  assert.deepEqual(result.structuredContent.answer, {
    id: 1,
    result: { roots: [{ uri: 'file:///work/project', name: 'project' }] },
  });
});

test('elicitation/create is relayed and the user answer comes back', async () => {
  const result = await server.client.callTool({ name: 'ask_client', arguments: { what: 'elicit' } });
  assert.notEqual(result.isError, true, JSON.stringify(result));
  assert.deepEqual(result.structuredContent.answer.result, {
    action: 'accept',
    content: { name: 'Ada Lovelace' },
  });
});

test('sampling/createMessage is relayed and the model answer comes back', async () => {
  const result = await server.client.callTool({ name: 'ask_client', arguments: { what: 'sample' } });
  assert.notEqual(result.isError, true, JSON.stringify(result));
  const answer = result.structuredContent.answer.result;
  assert.equal(answer.content.text, 'Hello from the model');
  assert.equal(answer.model, 'test-model');
});
