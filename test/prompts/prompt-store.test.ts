import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuplicatePromptError, PromptNotFoundError, PromptValidationError } from '../../src/prompts/prompt-errors.js';
import { PromptStore, type PromptStoreOptions } from '../../src/prompts/prompt-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { createMemoryLogger } from '../../src/util/logger.js';

let dir: string;
let file: string;
let logger: ReturnType<typeof createMemoryLogger>;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
  file = path.join(dir, 'data', 'prompts.json');
  logger = createMemoryLogger();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openStore(options: Partial<PromptStoreOptions> = {}): Promise<PromptStore> {
  const store = new PromptStore({ file, logger, ...options });
  await store.open();
  return store;
}

async function onDisk(): Promise<{ prompts: Array<Record<string, unknown>>; [key: string]: unknown }> {
  return JSON.parse(await readFile(file, 'utf8'));
}

function texts(store: PromptStore): string[] {
  return store.list().map((p) => p.prompt);
}

function assertNumbered(store: PromptStore): void {
  assert.deepEqual(
    store.list().map((p) => p.idx),
    store.list().map((_, i) => i + 1),
  );
}

describe('PromptStore file handling', () => {
  test('a missing file is created with the single prompt "test", in upstream format', async () => {
    const store = await openStore();
    assert.deepEqual(await onDisk(), { prompts: [{ idx: 1, prompt: 'test', negative: '' }] });
    assert.deepEqual(texts(store), ['test']);
  });

  test('an existing upstream file is read as it is', async () => {
    const upstream = { prompts: [{ idx: 1, prompt: 'a cat', negative: 'dog' }, { idx: 2, prompt: 'a lighthouse', negative: '' }] };
    await writeFile(path.join(dir, 'prompts.json'), JSON.stringify(upstream));
    file = path.join(dir, 'prompts.json');
    const store = await openStore();
    assert.deepEqual(store.list(), upstream.prompts);
    assert.equal(store.get(1)?.negative, 'dog');
  });

  test('a file that is not JSON is moved aside, never overwritten, and the list starts over', async () => {
    file = path.join(dir, 'prompts.json');
    await writeFile(file, '{"prompts": [ {"idx": 1, "prompt": "my precious prompt"');
    const store = new PromptStore({ file, logger, clock: new ManualClock(new Date('2026-02-03T04:05:06.789Z')) });
    await store.open();

    const backup = path.join(dir, 'prompts.json.corrupt-20260203T040506789Z');
    assert.equal(await readFile(backup, 'utf8'), '{"prompts": [ {"idx": 1, "prompt": "my precious prompt"');
    assert.deepEqual(texts(store), ['test']);
    assert.deepEqual((await onDisk()).prompts, [{ idx: 1, prompt: 'test', negative: '' }]);
    const error = logger.records.find((r) => r.level === 'error');
    assert.equal(error?.meta?.movedTo, backup);
  });

  test('a file of the wrong shape is moved aside too', async () => {
    file = path.join(dir, 'prompts.json');
    for (const [i, content] of ['{"prompts":"a cat"}', '[1,2]', '{"prompts":[{"idx":"one","prompt":"x"}]}', '{"prompts":[{"idx":1}]}', ''].entries()) {
      await writeFile(file, content);
      const store = new PromptStore({ file, logger, clock: new ManualClock(new Date(Date.UTC(2026, 0, 1, 0, 0, i))) });
      await store.open();
      assert.deepEqual(texts(store), ['test'], content);
    }
    const backups = (await readdir(dir)).filter((f) => f.startsWith('prompts.json.corrupt-'));
    assert.equal(backups.length, 5);
  });

  test('unknown fields of entries and of the document survive load and save', async () => {
    file = path.join(dir, 'prompts.json');
    await writeFile(
      file,
      JSON.stringify({
        version: 2,
        prompts: [{ idx: 1, prompt: 'a {animal} at {time}', negative: '', placeholders: { animal: ['cat', 'owl'] } }],
      }),
    );
    const store = await openStore();
    await store.add({ prompt: 'a quiet harbour' });
    await store.update(1, { negative: 'text' });

    const saved = await onDisk();
    assert.equal(saved.version, 2);
    assert.deepEqual(saved.prompts[0], { idx: 1, prompt: 'a {animal} at {time}', negative: 'text', placeholders: { animal: ['cat', 'owl'] } });
    assert.deepEqual(store.get(1)?.placeholders, { animal: ['cat', 'owl'] });
  });

  test('more prompts than maxCount at load: the newest are kept, renumbered, logged and saved', async () => {
    file = path.join(dir, 'prompts.json');
    const prompts = ['one', 'two', 'three', 'four', 'five'].map((prompt, i) => ({ idx: i + 1, prompt, negative: '' }));
    await writeFile(file, JSON.stringify({ prompts }));
    const store = await openStore({ maxCount: 3 });

    assert.deepEqual(texts(store), ['three', 'four', 'five']);
    assertNumbered(store);
    assert.deepEqual((await onDisk()).prompts.map((p) => p.prompt), ['three', 'four', 'five']);
    assert.ok(logger.records.some((r) => r.level === 'warn' && r.meta?.found === 5 && r.meta?.kept === 3));
  });

  test('gaps and disorder in idx are renumbered by idx order; a missing negative becomes empty', async () => {
    file = path.join(dir, 'prompts.json');
    await writeFile(file, JSON.stringify({ prompts: [{ idx: 7, prompt: 'late' }, { idx: 2, prompt: 'early', negative: 'x' }] }));
    const store = await openStore();
    assert.deepEqual(store.list(), [
      { idx: 1, prompt: 'early', negative: 'x' },
      { idx: 2, prompt: 'late', negative: '' },
    ]);
    assert.deepEqual((await onDisk()).prompts, store.list());
  });
});

describe('PromptStore changes', () => {
  test('add trims, appends, and saves', async () => {
    const store = await openStore();
    const added = await store.add({ prompt: '  a red fox in snow \n', negative: ' blurry ' });
    assert.deepEqual(added, { idx: 2, prompt: 'a red fox in snow', negative: 'blurry' });
    assert.deepEqual((await onDisk()).prompts[1], added);

    const reopened = await openStore();
    assert.deepEqual(reopened.list(), store.list());
  });

  test('a full list drops the oldest and renumbers 1..N', async () => {
    const store = await openStore({ maxCount: 3 });
    for (const prompt of ['b', 'c', 'd', 'e']) await store.add({ prompt });
    assert.deepEqual(texts(store), ['c', 'd', 'e']);
    assertNumbered(store);
    assert.deepEqual((await onDisk()).prompts.map((p) => [p.idx, p.prompt]), [[1, 'c'], [2, 'd'], [3, 'e']]);
  });

  test('a duplicate is refused, ignoring case and spacing', async () => {
    const store = await openStore();
    await store.add({ prompt: 'A red  fox' });
    await assert.rejects(store.add({ prompt: '  a RED fox ' }), (error: unknown) => {
      assert.ok(error instanceof DuplicatePromptError);
      assert.equal(error.existingIdx, 2);
      assert.match(error.message, /already in the list/);
      return true;
    });
    await assert.rejects(store.add({ prompt: 'a\tred\nfox', negative: 'other' }), DuplicatePromptError);
    assert.equal(store.size, 2);
  });

  test('empty and overlong prompts and negatives are refused with clear messages', async () => {
    const store = await openStore();
    const refused = async (input: { prompt: string; negative?: string }, field: string, message: RegExp): Promise<void> => {
      await assert.rejects(store.add(input), (error: unknown) => {
        assert.ok(error instanceof PromptValidationError);
        assert.equal(error.field, field);
        assert.match(error.message, message);
        return true;
      });
    };
    await refused({ prompt: '' }, 'prompt', /empty/);
    await refused({ prompt: '   \n\t' }, 'prompt', /empty/);
    await refused({ prompt: 'x'.repeat(2001) }, 'prompt', /2001 characters.*at most 2000/);
    await refused({ prompt: 'fine', negative: 'y'.repeat(2001) }, 'negative', /negative prompt is 2001/);
    await refused({ prompt: 42 as unknown as string }, 'prompt', /must be text/);

    await store.add({ prompt: `  ${'x'.repeat(2000)}  `, negative: 'y'.repeat(2000) });
    assert.equal(store.size, 2);
    assert.deepEqual(texts(store)[0], 'test');
  });

  test('25 concurrent adds to a list of 30 all land, and the file parses at every moment', async () => {
    const store = await openStore({ maxCount: 30 });
    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        const saved = await onDisk(); // throws, failing the test, if ever half-written
        assert.ok(Array.isArray(saved.prompts));
        reads++;
      }
    })();

    const added = await Promise.all(Array.from({ length: 25 }, (_, i) => store.add({ prompt: `concurrent prompt ${i}` })));
    reading = false;
    await reader;

    assert.equal(store.size, 26);
    assertNumbered(store);
    assert.deepEqual(new Set(added.map((p) => p.idx)).size, 25);
    const saved = await onDisk();
    assert.equal(saved.prompts.length, 26);
    for (let i = 0; i < 25; i++) assert.ok(saved.prompts.some((p) => p.prompt === `concurrent prompt ${i}`));
    assert.ok(reads > 0);
  });

  test('concurrent adds past the bound keep exactly maxCount, newest last', async () => {
    const store = await openStore({ maxCount: 5 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => store.add({ prompt: `p${i}` })));
    assert.deepEqual(texts(store), ['p7', 'p8', 'p9', 'p10', 'p11']);
    assert.deepEqual((await onDisk()).prompts.map((p) => p.prompt), texts(store));
  });

  test('update validates, refuses duplicates of other prompts, and keeps the idx', async () => {
    const store = await openStore();
    await store.add({ prompt: 'a cat', negative: 'dog' });
    await store.add({ prompt: 'an owl' });

    assert.deepEqual(await store.update(2, { prompt: ' a black CAT ' }), { idx: 2, prompt: 'a black CAT', negative: 'dog' });
    // Same text as itself in another case is not a duplicate.
    await store.update(2, { prompt: 'A BLACK cat' });
    await assert.rejects(store.update(3, { prompt: 'TEST' }), DuplicatePromptError);
    await assert.rejects(store.update(3, { prompt: ' ' }), PromptValidationError);
    await assert.rejects(store.update(3, { negative: 'n'.repeat(2001) }), PromptValidationError);
    await assert.rejects(store.update(9, { prompt: 'x' }), PromptNotFoundError);
    await store.update(3, { negative: '  rain ' });

    assert.deepEqual(store.list(), [
      { idx: 1, prompt: 'test', negative: '' },
      { idx: 2, prompt: 'A BLACK cat', negative: 'dog' },
      { idx: 3, prompt: 'an owl', negative: 'rain' },
    ]);
    assert.deepEqual((await onDisk()).prompts, store.list());
  });

  test('remove renumbers without gaps; unknown idx is refused', async () => {
    const store = await openStore();
    await store.add({ prompt: 'b' });
    await store.add({ prompt: 'c' });
    assert.equal((await store.remove(2)).prompt, 'b');
    assert.deepEqual(store.list().map((p) => [p.idx, p.prompt]), [[1, 'test'], [2, 'c']]);
    await assert.rejects(store.remove(3), PromptNotFoundError);
    await assert.rejects(store.remove(0), PromptNotFoundError);
    await assert.rejects(store.remove(1.5), PromptNotFoundError);
    assert.deepEqual((await onDisk()).prompts, store.list());
  });

  test('pickRandom follows the injected random and is undefined when the list is empty', async () => {
    let next = 0;
    const store = await openStore({ random: () => next });
    await store.add({ prompt: 'b' });
    await store.add({ prompt: 'c' });
    assert.equal(store.pickRandom()?.prompt, 'test');
    next = 0.5;
    assert.equal(store.pickRandom()?.prompt, 'b');
    next = 0.9999;
    assert.equal(store.pickRandom()?.prompt, 'c');

    for (let i = 0; i < 3; i++) await store.remove(1);
    assert.equal(store.pickRandom(), undefined);
  });

  test('maxCount must be at least 1', () => {
    assert.throws(() => new PromptStore({ file, logger, maxCount: 0 }), RangeError);
  });
});
