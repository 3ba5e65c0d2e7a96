/** /api/prompts over HTTP: the same list, bound and rules as prompts.json. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { admin, call, TOKEN_OPTIONS } from './api-client.js';

/** A copy without the `version` fields, for comparing the rest exactly; checks each is a short string. */
function withoutVersions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVersions);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === 'version') assert.match(String(field), /^[A-Za-z0-9_-]{8,32}$/, 'a version is a short hash');
    else copy[key] = key === 'placeholders' ? field : withoutVersions(field);
  }
  return copy;
}

describe('prompts API', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ optionsYaml: `${TOKEN_OPTIONS}prompts_amount: 3\n` });
  });
  after(() => server.dispose());

  const list = async (): Promise<Array<{ id: number; prompt: string; negative: string | null; version: string }>> =>
    (await call(server.url, 'GET', '/api/prompts')).json.prompts;

  test('lists, adds, edits and deletes, and prompts.json follows', async () => {
    const first = await call(server.url, 'GET', '/api/prompts');
    assert.equal(first.status, 200);
    assert.deepEqual(withoutVersions(first.json), { prompts: [{ id: 1, prompt: 'test', negative: null, placeholders: null }], max: 3 });

    const added = await admin(server.url, 'POST', '/api/prompts', { body: { prompt: '  a lighthouse at dusk  ', negative: 'people' } });
    assert.equal(added.status, 201);
    assert.deepEqual(withoutVersions(added.json), { prompt: { id: 2, prompt: 'a lighthouse at dusk', negative: 'people', placeholders: null } });
    assert.equal(added.headers.get('etag'), `"${added.json.prompt.version}"`, 'a single prompt carries its version as the ETag');

    const edited = await admin(server.url, 'PUT', '/api/prompts/2', { body: { negative: null } });
    assert.equal(edited.status, 200);
    assert.deepEqual(withoutVersions(edited.json.prompt), { id: 2, prompt: 'a lighthouse at dusk', negative: null, placeholders: null });
    assert.notEqual(edited.json.prompt.version, added.json.prompt.version, 'a new negative is a new version');
    assert.equal(edited.headers.get('etag'), `"${edited.json.prompt.version}"`);
    const renamed = await admin(server.url, 'PUT', '/api/prompts/2', { body: { prompt: 'a lighthouse at dawn', negative: 'boats' } });
    assert.deepEqual(withoutVersions(renamed.json.prompt), { id: 2, prompt: 'a lighthouse at dawn', negative: 'boats', placeholders: null });

    const removed = await admin(server.url, 'DELETE', '/api/prompts/1');
    assert.equal(removed.status, 204);
    assert.equal(removed.bytes.length, 0);
    const rest = await list();
    assert.deepEqual(withoutVersions(rest), [{ id: 1, prompt: 'a lighthouse at dawn', negative: 'boats', placeholders: null }], 'the rest move up');
    assert.equal(rest[0]?.version, renamed.json.prompt.version, 'moving up keeps the version');
    const file = JSON.parse(await readFile(join(server.config.paths.dataDir, 'prompts.json'), 'utf8'));
    assert.deepEqual(file.prompts, [{ idx: 1, prompt: 'a lighthouse at dawn', negative: 'boats' }]);
  });

  test('the bound drops the oldest; a duplicate is 409', async () => {
    for (const prompt of ['one', 'two', 'three', 'four']) {
      assert.equal((await admin(server.url, 'POST', '/api/prompts', { body: { prompt } })).status, 201);
    }
    assert.deepEqual((await list()).map((entry) => entry.prompt), ['two', 'three', 'four']);
    const duplicate = await admin(server.url, 'POST', '/api/prompts', { body: { prompt: '  THREE ' } });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.json.error.code, 'Conflict');
    assert.match(duplicate.json.error.message, /already in the list \(number 2\)/);
    const renameToDuplicate = await admin(server.url, 'PUT', '/api/prompts/1', { body: { prompt: 'four' } });
    assert.equal(renameToDuplicate.status, 409);
  });

  test('templates: placeholder lists are stored, shown, and refused when malformed', async () => {
    const added = await admin(server.url, 'POST', '/api/prompts', {
      body: { prompt: 'a [[animal]] in the [[place]]', placeholders: { animal: [' fox ', 'owl'], place: ['forest'] } },
    });
    assert.equal(added.status, 201);
    assert.deepEqual(added.json.prompt.placeholders, { animal: ['fox', 'owl'], place: ['forest'] });
    const id = added.json.prompt.id as number;
    const cleared = await admin(server.url, 'PUT', `/api/prompts/${id}`, { body: { placeholders: null } });
    assert.equal(cleared.json.prompt.placeholders, null);
    const bad = await admin(server.url, 'PUT', `/api/prompts/${id}`, { body: { placeholders: { 'bad name!': ['x'] } } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /placeholders/);
  });

  test('every write needs the token', async () => {
    const before = await list();
    for (const [method, path, body] of [
      ['POST', '/api/prompts', { prompt: 'sneaky' }],
      ['PUT', '/api/prompts/1', { prompt: 'sneaky' }],
      ['DELETE', '/api/prompts/1', undefined],
    ] as const) {
      const missing = await call(server.url, method, path, body === undefined ? {} : { body });
      assert.equal(missing.status, 401, `${method} ${path} without a token`);
      const wrong = await call(server.url, method, path, { token: 'wrong-token-0123456789', ...(body === undefined ? {} : { body }) });
      assert.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
    }
    assert.deepEqual(await list(), before, 'nothing changed');
  });

  test('bad input is 400 naming the field; unknown ids 404; a huge body 413', async () => {
    const cases: Array<[string, string, { body?: unknown; rawBody?: string }, RegExp]> = [
      ['POST', '/api/prompts', { body: {} }, /prompt: expected a string/],
      ['POST', '/api/prompts', { body: { prompt: 42 } }, /prompt: expected a string/],
      ['POST', '/api/prompts', { body: { prompt: '   ' } }, /prompt: the prompt is empty/],
      ['POST', '/api/prompts', { body: { prompt: 'x'.repeat(2001) } }, /prompt: the prompt is 2001 characters long/],
      ['POST', '/api/prompts', { body: { prompt: 'fine', negative: 7 } }, /negative: expected a string/],
      ['POST', '/api/prompts', { body: { prompt: 'fine', placeholders: ['x'] } }, /placeholders: expected an object of lists/],
      ['POST', '/api/prompts', { rawBody: '{"prompt":' }, /Error parsing JSON request/],
      ['POST', '/api/prompts', { body: ['prompt'] }, /Invalid request/],
      ['PUT', '/api/prompts/1', { body: {} }, /expected at least one of prompt, negative, placeholders/],
      ['PUT', '/api/prompts/abc', { body: { prompt: 'x' } }, /Invalid prompt id/],
      ['PUT', '/api/prompts/0', { body: { prompt: 'x' } }, /Invalid prompt id/],
      ['DELETE', '/api/prompts/-1', {}, /Invalid prompt id/],
    ];
    for (const [method, path, request, message] of cases) {
      const response = await admin(server.url, method, path, request);
      assert.equal(response.status, 400, `${method} ${path} ${JSON.stringify(request).slice(0, 60)}`);
      assert.equal(response.json.error.code, 'BadRequest');
      assert.match(response.json.error.message, message);
    }
    for (const [method, path] of [['PUT', '/api/prompts/99'], ['DELETE', '/api/prompts/99']] as const) {
      const response = await admin(server.url, method, path, method === 'PUT' ? { body: { prompt: 'x' } } : {});
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.match(response.json.error.message, /there is no prompt number 99/);
    }
    const huge = await admin(server.url, 'POST', '/api/prompts', { body: { prompt: 'x'.repeat(70 * 1024) } });
    assert.equal(huge.status, 413);
    assert.equal(huge.json.error.code, 'PayloadTooLarge');
  });
});
