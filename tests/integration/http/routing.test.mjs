// Where a 2025 session's server-to-client messages go, through the real binary: each goes on
// the stream of the request it belongs to, also when several calls of the session run at once
// and the message comes from a tool's relay thread (a sampling request of an exec tool).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { openSession, post, readEvents, startServer } from './helpers.mjs';

describe('routing by related request', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  test('two concurrent calls each get their own sampling request and result', async () => {
    const session = await openSession(server, { capabilities: { sampling: {} } });
    const headers = { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' };
    const call = (id, question) =>
      post(server, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'ask', arguments: { question } } }, { headers });
    const [first, second] = await Promise.all([call('call-a', 'question a'), call('call-b', 'question b')]);
    const samplingOn = async (response) => {
      const events = await readEvents(response, {
        until: (e) => e.data && JSON.parse(e.data).method === 'sampling/createMessage',
        keepOpen: true,
      });
      return JSON.parse(events.at(-1).data);
    };
    const [askA, askB] = await Promise.all([samplingOn(first), samplingOn(second)]);
    // Each stream carries the question of its own call.
    assert.equal(askA.params.messages[0].content.text, 'question a');
    assert.equal(askB.params.messages[0].content.text, 'question b');
    for (const [ask, text] of [[askA, 'answer a'], [askB, 'answer b']]) {
      const answer = await post(
        server,
        { jsonrpc: '2.0', id: ask.id, result: { role: 'assistant', content: { type: 'text', text }, model: 'm', stopReason: 'endTurn' } },
        { headers },
      );
      assert.equal(answer.status, 202);
    }
    const resultOf = async (response) => {
      const events = await readEvents(response);
      return events.filter((e) => e.data).map((e) => JSON.parse(e.data)).at(-1);
    };
    const [resultA, resultB] = await Promise.all([resultOf(first), resultOf(second)]);
    assert.equal(resultA.id, 'call-a');
    assert.equal(resultB.id, 'call-b');
    assert.match(JSON.stringify(resultA.result), /answer a/);
    assert.match(JSON.stringify(resultB.result), /answer b/);
  });
});
