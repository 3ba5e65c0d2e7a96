/**
 * What a frame sends is read generously: the firmware shows nothing at all for an error on
 * "Add prompt to server", and a future firmware may send fields this server does not know.
 * Over a raw socket, as the firmware talks; bodies compared byte for byte.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rawRequest } from '../support/raw-http.js';
import { startTestServer, waitForOperation, type TestServer } from '../support/test-server.js';
import { admin, TOKEN_OPTIONS } from '../api/api-client.js';

const FRAME_HEADERS = { 'Content-Type': 'application/json', Accept: '*/*' };

describe('frame requests', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ optionsYaml: `${TOKEN_OPTIONS}providers:\n  offline:\n    enabled: true\n` });
  });
  after(() => server.dispose());

  const savedPrompts = async (): Promise<string[]> => {
    const file = JSON.parse(await readFile(join(server.config.paths.dataDir, 'prompts.json'), 'utf8')) as { prompts: { prompt: string }[] };
    return file.prompts.map((entry) => entry.prompt);
  };

  test('"Add prompt to server" with a prompt already in the list answers success, as for a new one', async () => {
    const first = await rawRequest(server.port, 'POST', '/prompt/add', '{"prompt":"a harbour at night"}', FRAME_HEADERS);
    assert.equal(first.status, 201);
    assert.equal(first.body.toString(), '{"status":"done"}');
    const file = join(server.config.paths.dataDir, 'prompts.json');
    const before = await readFile(file);

    const again = await rawRequest(server.port, 'POST', '/prompt/add', '{"prompt":"  A Harbour   at night "}', FRAME_HEADERS);
    assert.equal(again.status, first.status, 'the same success status as a new prompt');
    assert.equal(again.body.toString(), '{"status":"done"}');
    assert.deepEqual(await readFile(file), before, 'prompts.json is unchanged: no second copy');
    assert.equal((await savedPrompts()).filter((prompt) => prompt.toLowerCase() === 'a harbour at night').length, 1);
  });

  test('the JSON API keeps 409 for the page', async () => {
    const duplicate = await admin(server.url, 'POST', '/api/prompts', { body: { prompt: 'a harbour at night' } });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.json.error.code, 'Conflict');
  });

  test('unknown fields in /prompt/add are ignored', async () => {
    const result = await rawRequest(server.port, 'POST', '/prompt/add', '{"prompt":"a paper boat","style":"anime","foo":{"bar":[1,2]}}', FRAME_HEADERS);
    assert.equal(result.status, 201);
    assert.equal(result.body.toString(), '{"status":"done"}');
    assert.ok((await savedPrompts()).includes('a paper boat'));
  });

  test('unknown fields in /operation/start are ignored', async () => {
    for (const body of ['{"type":"auto","style":"anime"}', '{"type":"ydart","prompt":"a kite","style":"watercolor","foo":null,"bar":[{}]}']) {
      const start = await rawRequest(server.port, 'POST', '/operation/start', body, FRAME_HEADERS);
      assert.equal(start.status, 200, `${body}: ${start.body.toString()}`);
      const match = /^\{"id":"([A-Za-z0-9_-]+)","status":"pending"\}$/.exec(start.body.toString());
      assert.ok(match, start.body.toString());
      assert.equal(await waitForOperation(server.url, match[1] as string), 'done');
    }
  });

  test('placeholders named __proto__, constructor or prototype are refused with 400 naming the field, on both routes', async () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      // Raw text: JSON.stringify of an object literal could not even carry "__proto__" as a key.
      const lists = `{"color":["red","blue"],"${name}":["x"]}`;
      const frame = await rawRequest(server.port, 'POST', '/prompt/add', `{"prompt":"a [[color]] kite ${name}","placeholders":${lists}}`, FRAME_HEADERS);
      assert.equal(frame.status, 400, `/prompt/add with ${name}: ${frame.body.toString()}`);
      const frameError = JSON.parse(frame.body.toString()) as { error: { code: string; message: string } };
      assert.equal(frameError.error.code, 'BadRequest');
      assert.ok(frameError.error.message.includes(`placeholders.${name}`), frameError.error.message);

      const api = await admin(server.url, 'POST', '/api/prompts', { rawBody: `{"prompt":"a [[color]] kite ${name}","placeholders":${lists}}` });
      assert.equal(api.status, 400, `/api/prompts with ${name}`);
      assert.equal(api.json.error.code, 'BadRequest');
      assert.ok(api.json.error.message.includes(`placeholders.${name}`), api.json.error.message);

      const put = await admin(server.url, 'PUT', '/api/prompts/1', { rawBody: `{"placeholders":${lists}}` });
      assert.equal(put.status, 400, `PUT /api/prompts/1 with ${name}`);
      assert.ok(put.json.error.message.includes(`placeholders.${name}`), put.json.error.message);
    }
    assert.ok(!(await savedPrompts()).some((prompt) => prompt.includes('kite')), 'nothing was stored');
  });

  test('/prompt/add stores placeholder lists sent with the prompt, as the JSON API does', async () => {
    const result = await rawRequest(server.port, 'POST', '/prompt/add', '{"prompt":"a [[color]] balloon","placeholders":{"color":[" red ","gold"]}}', FRAME_HEADERS);
    assert.equal(result.status, 201);
    const added = server.prompts.list().find((entry) => entry.prompt === 'a [[color]] balloon');
    assert.deepEqual(added?.placeholders, { color: ['red', 'gold'] });
  });
});
