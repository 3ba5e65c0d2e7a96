/**
 * Prompt ids are list positions that shift after a delete, so two phones with different
 * lists could hit the wrong prompt. `version` + If-Match (412 when stale) prevents it.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { admin, call, TOKEN_OPTIONS } from './api-client.js';

interface PromptJson {
  readonly id: number;
  readonly prompt: string;
  readonly negative: string | null;
  readonly version: string;
}

const STALE = {
  error: {
    code: 'PreconditionFailed',
    message: 'This prompt was changed or removed by someone else; reload the list',
    dev_message: '',
  },
};

describe('prompt versions and If-Match', () => {
  let server: TestServer;
  let file: string;
  /** The list as a phone loads it: the built-in "test", then two of ours. */
  let seen: PromptJson[];

  beforeEach(async () => {
    server = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    file = join(server.config.paths.dataDir, 'prompts.json');
    for (const prompt of ['a red boat', 'a green hill']) {
      assert.equal((await admin(server.url, 'POST', '/api/prompts', { body: { prompt } })).status, 201);
    }
    seen = await list();
    assert.deepEqual(seen.map((entry) => [entry.id, entry.prompt]), [[1, 'test'], [2, 'a red boat'], [3, 'a green hill']]);
  });
  afterEach(() => server.dispose());

  const list = async (): Promise<PromptJson[]> => (await call(server.url, 'GET', '/api/prompts')).json.prompts;
  const ifMatch = (version: string): Record<string, string> => ({ 'If-Match': `"${version}"` });
  const at = (id: number): PromptJson => seen[id - 1] as PromptJson;

  test('a stale version is 412 for PUT and DELETE, and prompts.json is untouched', async () => {
    const edited = await admin(server.url, 'PUT', '/api/prompts/2', { body: { negative: 'fog' } });
    assert.equal(edited.status, 200, 'someone else edits prompt 2 (no If-Match)');
    const fileBefore = await readFile(file, 'utf8');

    const stalePut = await admin(server.url, 'PUT', '/api/prompts/2', { body: { prompt: 'a blue boat' }, headers: ifMatch(at(2).version) });
    assert.equal(stalePut.status, 412);
    assert.deepEqual(stalePut.json, STALE);
    const staleDelete = await admin(server.url, 'DELETE', '/api/prompts/2', { headers: ifMatch(at(2).version) });
    assert.equal(staleDelete.status, 412);
    assert.deepEqual(staleDelete.json, STALE);
    const weak = await admin(server.url, 'DELETE', '/api/prompts/2', { headers: { 'If-Match': `W/"${edited.json.prompt.version}"` } });
    assert.equal(weak.status, 412, 'If-Match compares strongly: a weak tag never matches');

    assert.equal(await readFile(file, 'utf8'), fileBefore, 'nothing changed on disk');
    assert.deepEqual((await list())[1], edited.json.prompt);
  });

  test('the current version lets the change through, and the answer has the new version', async () => {
    const put = await admin(server.url, 'PUT', '/api/prompts/2', { body: { prompt: 'a blue boat' }, headers: ifMatch(at(2).version) });
    assert.equal(put.status, 200);
    assert.equal(put.json.prompt.prompt, 'a blue boat');
    assert.notEqual(put.json.prompt.version, at(2).version);
    assert.equal(put.headers.get('etag'), `"${put.json.prompt.version}"`);

    // One of several tags, as RFC 9110 allows; and `*` means "whatever is there now".
    const several = await admin(server.url, 'PUT', '/api/prompts/2', {
      body: { negative: 'rain' },
      headers: { 'If-Match': `"nope", "${put.json.prompt.version}"` },
    });
    assert.equal(several.status, 200);
    assert.equal((await admin(server.url, 'PUT', '/api/prompts/3', { body: { negative: 'snow' }, headers: { 'If-Match': '*' } })).status, 200);
    assert.equal((await admin(server.url, 'PUT', '/api/prompts/9', { body: { negative: 'snow' }, headers: { 'If-Match': '*' } })).status, 412);

    const removed = await admin(server.url, 'DELETE', '/api/prompts/2', { headers: ifMatch(several.json.prompt.version) });
    assert.equal(removed.status, 204);
    assert.deepEqual((await list()).map((entry) => entry.prompt), ['test', 'a green hill']);
    const onDisk = JSON.parse(await readFile(file, 'utf8'));
    assert.deepEqual(onDisk.prompts, [
      { idx: 1, prompt: 'test', negative: '' },
      { idx: 2, prompt: 'a green hill', negative: 'snow' },
    ], 'prompts.json keeps upstream format: no version in the file');
  });

  test('without If-Match the old behaviour stays', async () => {
    assert.equal((await admin(server.url, 'PUT', '/api/prompts/3', { body: { prompt: 'a grey hill' } })).status, 200);
    assert.equal((await admin(server.url, 'DELETE', '/api/prompts/2')).status, 204);
    assert.deepEqual((await list()).map((entry) => entry.prompt), ['test', 'a grey hill']);
    const missing = await admin(server.url, 'DELETE', '/api/prompts/9');
    assert.equal(missing.status, 404, 'an unknown id without If-Match is still 404');
  });

  test('phone A deletes prompt 2; phone B, with the old list, cannot edit or delete the wrong prompt', async () => {
    assert.equal((await admin(server.url, 'DELETE', '/api/prompts/2', { headers: ifMatch(at(2).version) })).status, 204);
    const fileAfterDelete = await readFile(file, 'utf8');

    // B's "prompt 3" is now number 2, and nothing is at 3.
    const editThree = await admin(server.url, 'PUT', '/api/prompts/3', { body: { prompt: 'a brown hill' }, headers: ifMatch(at(3).version) });
    assert.equal(editThree.status, 412, 'nothing is at 3 any more');
    // B's "prompt 2" (the deleted boat) would now hit the hill.
    const editTwo = await admin(server.url, 'PUT', '/api/prompts/2', { body: { prompt: 'a yellow boat' }, headers: ifMatch(at(2).version) });
    assert.equal(editTwo.status, 412, 'another prompt is at 2 now');
    const deleteTwo = await admin(server.url, 'DELETE', '/api/prompts/2', { headers: ifMatch(at(2).version) });
    assert.equal(deleteTwo.status, 412);
    assert.equal(await readFile(file, 'utf8'), fileAfterDelete, 'the hill is untouched');

    // After reloading, B finds the hill at 2 under the same version, and its edit goes through.
    const reloaded = await list();
    assert.deepEqual(reloaded[1], { ...at(3), id: 2 });
    const edit = await admin(server.url, 'PUT', '/api/prompts/2', { body: { prompt: 'a brown hill' }, headers: ifMatch(at(3).version) });
    assert.equal(edit.status, 200);
  });

  test('a delete and an edit of the same prompt at the same moment: exactly one wins, the neighbour is never hit', async () => {
    for (let round = 0; round < 5; round += 1) {
      const before = await list();
      const target = before[1] as PromptJson;
      const neighbour = before[2] as PromptJson;
      const [deleted, edited] = await Promise.all([
        admin(server.url, 'DELETE', '/api/prompts/2', { headers: ifMatch(target.version) }),
        admin(server.url, 'PUT', '/api/prompts/2', { body: { prompt: `an edit ${round}` }, headers: ifMatch(target.version) }),
      ]);
      const statuses = [deleted.status, edited.status];
      assert.ok(
        (statuses[0] === 204 && statuses[1] === 412) || (statuses[0] === 412 && statuses[1] === 200),
        `round ${round}: one wins and the other is refused, got ${statuses.join(' and ')}`,
      );
      const after = await list();
      assert.ok(
        after.some((entry) => entry.prompt === neighbour.prompt && entry.version === neighbour.version),
        `round ${round}: the neighbour is unchanged`,
      );
      if (statuses[0] === 204) assert.equal(after.length, before.length - 1);
      else assert.equal(after[1]?.prompt, `an edit ${round}`);
      // Back to three prompts for the next round.
      if (after.length < 3) assert.equal((await admin(server.url, 'POST', '/api/prompts', { body: { prompt: `filler ${round}` } })).status, 201);
    }
  });
});
