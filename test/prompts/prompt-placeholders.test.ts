import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PromptStore, type PromptStoreOptions } from '../../src/prompts/prompt-store.js';
import { PlaceholderValidationError, readPlaceholderLists, validatePlaceholderLists } from '../../src/prompts/prompt-validation.js';
import { createMemoryLogger } from '../../src/util/logger.js';

let dir: string;
let file: string;
let logger: ReturnType<typeof createMemoryLogger>;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
  file = path.join(dir, 'prompts.json');
  logger = createMemoryLogger();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openWith(content: unknown, options: Partial<PromptStoreOptions> = {}): Promise<PromptStore> {
  await writeFile(file, JSON.stringify(content));
  const store = new PromptStore({ file, logger, ...options });
  await store.open();
  return store;
}

async function onDisk(): Promise<Record<string, unknown> & { prompts: Array<Record<string, unknown>> }> {
  return JSON.parse(await readFile(file, 'utf8'));
}

function refusedWith(field: string, ...messages: RegExp[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof PlaceholderValidationError);
    assert.equal(error.field, field);
    for (const message of messages) assert.match(error.message, message);
    return true;
  };
}

describe('placeholder list validation', () => {
  test('well-formed lists pass; an empty list is allowed; absent means none', () => {
    assert.deepEqual(readPlaceholderLists({ color: ['red', 'gold'], mood: [] }, 'x'), { lists: { color: ['red', 'gold'], mood: [] }, problems: [] });
    assert.deepEqual(readPlaceholderLists(undefined, 'x'), { lists: {}, problems: [] });
    assert.deepEqual(readPlaceholderLists(null, 'x'), { lists: {}, problems: [] });
  });

  test('each problem is named by its place; bad lists are left out whole, good ones kept', () => {
    const { lists, problems } = readPlaceholderLists(
      { good: ['a'], single: 'red', mixed: ['ok', 3, '  '], 'bad name': ['x'], long: ['y'.repeat(2001)] },
      'global_placeholders',
    );
    assert.deepEqual(lists, { good: ['a'] });
    assert.deepEqual(problems, [
      'global_placeholders.single must be a list of text values',
      'global_placeholders.mixed[1] is not text',
      'global_placeholders.mixed[2] is empty',
      'global_placeholders.bad name: "bad name" cannot be a placeholder name (letters, digits, "_" and "-" only)',
      'global_placeholders.long[0] is 2001 characters long; at most 2000 are allowed',
    ]);
    assert.match(readPlaceholderLists(['red'], 'p').problems[0] ?? '', /p must be an object of lists/);
    assert.match(readPlaceholderLists('red', 'p').problems[0] ?? '', /p must be an object of lists/);
  });

  test('user input is trimmed and refused with every problem in one error', () => {
    assert.deepEqual(validatePlaceholderLists({ color: [' red ', 'gold\n'] }, 'placeholders'), { color: ['red', 'gold'] });
    assert.deepEqual(validatePlaceholderLists(undefined, 'placeholders'), {});
    assert.throws(
      () => validatePlaceholderLists({ color: ['red', ''], 'a.b': ['x'] }, 'global_placeholders'),
      refusedWith('global_placeholders', /color\[1\] is empty/, /"a\.b" cannot be a placeholder name/),
    );
  });
});

describe('PromptStore with placeholders', () => {
  const document = {
    prompts: [
      { idx: 1, prompt: '[[color]] robot with a [[weapon]]', negative: '', placeholders: { weapon: ['blaster', 'axe'] } },
      { idx: 2, prompt: 'a cuckoo', negative: '' },
    ],
    global_placeholders: { weapon: ['stone'], color: ['gold', 'pink'] },
  };

  test('globalPlaceholders reads the file; pickFilled and fill use the lists, local first', async () => {
    const draws = [0, 0.9, 0.6];
    const store = await openWith(document, { random: () => draws.shift() as number });
    assert.deepEqual(store.globalPlaceholders(), { weapon: ['stone'], color: ['gold', 'pink'] });
    // First draw picks prompt 1; then colour (0.9 -> pink), weapon (0.6 -> axe; never stone).
    assert.deepEqual(store.pickFilled(), { idx: 1, prompt: 'pink robot with a axe', template: '[[color]] robot with a [[weapon]]' });
    assert.deepEqual(store.missingPlaceholders(), []);
    assert.equal(logger.records.filter((r) => r.level === 'warn' || r.level === 'error').length, 0);
  });

  test('open warns once per prompt and placeholder that has no values anywhere', async () => {
    const store = await openWith({
      prompts: [
        { idx: 1, prompt: '[[color]] [[mood]] [[mood]]', negative: '[[fog]]', placeholders: { mood: [] } },
        { idx: 2, prompt: '[[color]] sky' },
      ],
      global_placeholders: { color: ['red'] },
    });
    const warnings = logger.records.filter((r) => r.level === 'warn').map((r) => r.meta);
    assert.deepEqual(warnings, [
      { idx: 1, placeholder: 'mood', field: 'prompt' },
      { idx: 1, placeholder: 'fog', field: 'negative' },
    ]);
    assert.equal(store.missingPlaceholders().length, 2);
    // The prompt still works; the unfilled names go out as written.
    assert.equal(store.fill(store.get(1)!).prompt, 'red [[mood]] [[mood]]');
  });

  test('malformed lists in the file are logged and ignored, but the file is kept and they survive saves', async () => {
    const store = await openWith(
      {
        prompts: [{ idx: 1, prompt: '[[color]] [[size]]', negative: '', placeholders: { color: 'red', size: ['big'] } }],
        global_placeholders: { color: ['gold', ''], size: ['small'] },
      },
      { random: () => 0 },
    );
    const errors = logger.records.filter((r) => r.level === 'error').map((r) => r.meta?.problem);
    assert.deepEqual(errors, ['global_placeholders.color[1] is empty', 'prompts[idx 1].placeholders.color must be a list of text values']);
    assert.deepEqual(store.globalPlaceholders(), { size: ['small'] });
    assert.equal(store.fill(store.get(1)!).prompt, '[[color]] big');
    assert.deepEqual(
      logger.records.filter((r) => r.level === 'warn').map((r) => r.meta),
      [{ idx: 1, placeholder: 'color', field: 'prompt' }],
    );

    await store.add({ prompt: 'another' });
    const saved = await onDisk();
    assert.deepEqual(saved.global_placeholders, { color: ['gold', ''], size: ['small'] });
    assert.deepEqual(saved.prompts[0]?.placeholders, { color: 'red', size: ['big'] });
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes('corrupt')), []);
  });

  test('add takes validated lists, stores them only when there are some, and warns about unfilled names', async () => {
    const store = await openWith({ prompts: [] });
    const added = await store.add({ prompt: 'a [[animal]] at [[time]]', placeholders: { animal: [' owl ', 'fox'] } });
    assert.deepEqual(added, { idx: 1, prompt: 'a [[animal]] at [[time]]', negative: '', placeholders: { animal: ['owl', 'fox'] } });
    assert.deepEqual((await onDisk()).prompts[0], added);
    assert.deepEqual(logger.records.filter((r) => r.level === 'warn').map((r) => r.meta), [{ idx: 1, placeholder: 'time', field: 'prompt' }]);

    assert.deepEqual(await store.add({ prompt: 'plain', placeholders: {} }), { idx: 2, prompt: 'plain', negative: '' });
    await assert.rejects(
      store.add({ prompt: 'refused', placeholders: { animal: ['owl', 42] } as never }),
      refusedWith('placeholders', /placeholders\.animal\[1\] is not text/),
    );
    assert.equal(store.size, 2);
  });

  test('update replaces or removes the lists and keeps other fields', async () => {
    const store = await openWith({ prompts: [{ idx: 1, prompt: 'a [[animal]]', negative: '', placeholders: { animal: ['cat'] }, note: 'mine' }] });
    assert.deepEqual(await store.update(1, { placeholders: { animal: ['owl'] } }), {
      idx: 1,
      prompt: 'a [[animal]]',
      negative: '',
      placeholders: { animal: ['owl'] },
      note: 'mine',
    });
    assert.deepEqual(await store.update(1, { negative: 'blur' }), { idx: 1, prompt: 'a [[animal]]', negative: 'blur', placeholders: { animal: ['owl'] }, note: 'mine' });
    assert.deepEqual(await store.update(1, { placeholders: null }), { idx: 1, prompt: 'a [[animal]]', negative: 'blur', note: 'mine' });
    await assert.rejects(store.update(1, { placeholders: { animal: [] , 'x y': ['z'] } }), refusedWith('placeholders', /"x y"/));
    assert.deepEqual((await onDisk()).prompts[0], { idx: 1, prompt: 'a [[animal]]', negative: 'blur', note: 'mine' });
  });

  test('setGlobalPlaceholders validates, saves, and {} removes the field', async () => {
    const store = await openWith({ version: 3, prompts: [{ idx: 1, prompt: '[[sky]] sky', negative: '' }] }, { random: () => 0 });
    assert.equal(logger.records.filter((r) => r.level === 'warn').length, 1);
    assert.deepEqual(await store.setGlobalPlaceholders({ sky: [' stormy '] }), { sky: ['stormy'] });
    assert.equal(store.pickFilled()?.prompt, 'stormy sky');
    assert.deepEqual(await onDisk(), { version: 3, prompts: [{ idx: 1, prompt: '[[sky]] sky', negative: '' }], global_placeholders: { sky: ['stormy'] } });

    await assert.rejects(store.setGlobalPlaceholders({ sky: 'blue' } as never), refusedWith('global_placeholders', /sky must be a list/));
    assert.deepEqual(store.globalPlaceholders(), { sky: ['stormy'] });

    await store.setGlobalPlaceholders({});
    assert.deepEqual(await onDisk(), { version: 3, prompts: [{ idx: 1, prompt: '[[sky]] sky', negative: '' }] });
    assert.deepEqual(store.globalPlaceholders(), {});
  });

  test('new lists named __proto__, constructor or prototype are refused by name; such lists in the file still work', async () => {
    const fromFile = JSON.parse('{"prompts":[{"idx":1,"prompt":"[[constructor]] and [[__proto__]]","negative":"","placeholders":{"constructor":["c"],"__proto__":["p"]}}]}');
    await writeFile(file, JSON.stringify(fromFile));
    const store = new PromptStore({ file, logger, random: () => 0 });
    await store.open();
    assert.equal(store.pickFilled()?.prompt, 'c and p', 'a hand-written file keeps working');

    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const lists = JSON.parse(`{"color":["red"],"${name}":["x"]}`) as Record<string, string[]>;
      await assert.rejects(store.add({ prompt: `a [[color]] ${name}`, placeholders: lists }), refusedWith('placeholders', new RegExp(`placeholders\\.${name}: "${name}" cannot be a placeholder name`)));
      await assert.rejects(store.update(1, { placeholders: lists }), refusedWith('placeholders', new RegExp(`"${name}"`)));
      await assert.rejects(store.setGlobalPlaceholders(lists), refusedWith('global_placeholders', new RegExp(`global_placeholders\\.${name}:`)));
    }
    assert.equal(store.size, 1);
    assert.deepEqual(await onDisk(), fromFile, 'nothing changed on disk');
  });

  test('unknown fields of entries and document survive load and save next to the lists', async () => {
    const store = await openWith({ ...document, version: 2, prompts: document.prompts.map((p) => ({ ...p, code: `prmt_${p.idx}` })) });
    await store.add({ prompt: 'a quiet harbour' });
    await store.update(1, { negative: 'text' });
    const saved = await onDisk();
    assert.equal(saved.version, 2);
    assert.deepEqual(saved.global_placeholders, document.global_placeholders);
    assert.deepEqual(saved.prompts[0], { ...document.prompts[0], negative: 'text', code: 'prmt_1' });
    assert.deepEqual(saved.prompts[1], { ...document.prompts[1], code: 'prmt_2' });

    const reopened = new PromptStore({ file, logger });
    await reopened.open();
    assert.deepEqual(reopened.list(), store.list());
  });
});
