/**
 * A prompts.json that a person saved from an editor is read, not set aside: a byte order
 * mark, CRLF line ends, `"idx":"1"`, a missing negative, trailing commas, a raw line break
 * inside a prompt. Only a file that truly cannot be read is moved to `.corrupt-<time>`, and
 * then the owner is told on the notice board, not only in the log.
 */
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PromptStore, type PromptStoreOptions } from '../../src/prompts/prompt-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { NoticeBoard } from '../../src/util/notice-board.js';

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

async function openFile(content: string | Buffer, options: Partial<PromptStoreOptions> = {}): Promise<PromptStore> {
  await writeFile(file, content);
  const store = new PromptStore({ file, logger, ...options });
  await store.open();
  return store;
}

async function setAside(): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.includes('.corrupt-'));
}

function plain(store: PromptStore): Array<{ idx: number; prompt: string; negative: string }> {
  return store.list().map(({ idx, prompt, negative }) => ({ idx, prompt, negative }));
}

describe('prompts.json saved from an editor', () => {
  test('BOM, CRLF, idx as text, a missing negative and trailing commas: every prompt is read', async () => {
    const text =
      '\uFEFF{\r\n' +
      '  "prompts": [\r\n' +
      '    {"idx": "1", "prompt": "a lighthouse at dusk", "negative": "people",},\r\n' +
      '    {"idx": " 2 ", "prompt": "a red fox in snow"},\r\n' +
      '    {"idx": 3, "prompt": "an owl", "negative": "blur", },\r\n' +
      '  ],\r\n' +
      '}\r\n';
    const notices = new NoticeBoard();
    const store = await openFile(text, { notices });

    assert.deepEqual(plain(store), [
      { idx: 1, prompt: 'a lighthouse at dusk', negative: 'people' },
      { idx: 2, prompt: 'a red fox in snow', negative: '' },
      { idx: 3, prompt: 'an owl', negative: 'blur' },
    ]);
    assert.deepEqual(await setAside(), [], 'nothing was set aside');
    assert.equal(notices.has('prompts:corrupt'), false);
    assert.equal(logger.records.filter((r) => r.level === 'error').length, 0);
  });

  test('the next save writes the upstream shape: no BOM, numbers for idx, nothing lost', async () => {
    await openFile('\uFEFF{"prompts":[{"idx":"1","prompt":"a cat","extra":"kept",},],"version":2,}\r\n');
    const store = new PromptStore({ file, logger });
    await store.open();
    await store.add({ prompt: 'a dog' });

    const saved = await readFile(file, 'utf8');
    assert.notEqual(saved.charCodeAt(0), 0xfeff);
    assert.deepEqual(JSON.parse(saved), {
      prompts: [
        { idx: 1, prompt: 'a cat', negative: '', extra: 'kept' },
        { idx: 2, prompt: 'a dog', negative: '' },
      ],
      version: 2,
    });
  });

  test('a line break or tab typed inside a prompt is read as that character', async () => {
    const store = await openFile('{"prompts":[{"idx":1,"prompt":"a cat,\r\n\tsitting on a mat","negative":""}]}');
    assert.deepEqual(plain(store), [{ idx: 1, prompt: 'a cat,\r\n\tsitting on a mat', negative: '' }]);
    assert.deepEqual(await setAside(), []);
  });

  test('commas inside prompts are text, not trailing commas', async () => {
    const store = await openFile('{"prompts":[{"idx":1,"prompt":"red, ]blue, }green,","negative":",]"},]}');
    assert.deepEqual(plain(store), [{ idx: 1, prompt: 'red, ]blue, }green,', negative: ',]' }]);
  });

  test('a prompt added by hand without an idx keeps its place in the file', async () => {
    const store = await openFile('{"prompts":[{"idx":1,"prompt":"first"},{"prompt":"added by hand"},{"idx":2,"prompt":"second"}]}');
    assert.deepEqual(
      store.list().map((entry) => entry.prompt),
      ['first', 'added by hand', 'second'],
    );
    assert.deepEqual(await setAside(), []);
  });

  test('a file saved as UTF-16 ("Unicode" in Windows Notepad) is read', async () => {
    const json = '{"prompts":[{"idx":1,"prompt":"маяк в сумерках","negative":""}]}';
    const store = await openFile(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')]));
    assert.deepEqual(plain(store), [{ idx: 1, prompt: 'маяк в сумерках', negative: '' }]);
    assert.deepEqual(await setAside(), []);
  });
});

describe('a prompts.json that truly cannot be read', () => {
  test('is set aside byte for byte, the list starts over, and the owner gets a notice naming the copy', async () => {
    const broken = '{"prompts": [ {"idx": 1, "prompt": "my precious prompt"';
    const notices = new NoticeBoard(() => new Date('2026-02-03T04:05:07Z'));
    const store = await openFile(broken, { notices, clock: new ManualClock(new Date('2026-02-03T04:05:06.789Z')) });

    const backup = path.join(dir, 'prompts.json.corrupt-20260203T040506789Z');
    assert.equal(await readFile(backup, 'utf8'), broken);
    assert.deepEqual(plain(store), [{ idx: 1, prompt: 'test', negative: '' }]);
    const [notice, ...others] = notices.list();
    assert.equal(others.length, 0);
    assert.equal(notice?.key, 'prompts:corrupt');
    assert.equal(notice?.level, 'error');
    assert.ok(notice?.message.includes(backup), notice?.message);
    assert.match(notice?.message ?? '', /could not be read/);
    assert.match(notice?.message ?? '', /started over/);
    assert.match(notice?.message ?? '', /line 1/, 'says where the file is broken');
  });

  test('a file that is not UTF-8 (Windows-1251 Cyrillic) is set aside, never read as mangled text and saved over', async () => {
    // "маяк" in Windows-1251: not valid UTF-8, and decoding it anyway would replace every letter with U+FFFD.
    const bytes = Buffer.concat([Buffer.from('{"prompts":[{"idx":1,"prompt":"'), Buffer.from([0xec, 0xe0, 0xff, 0xea]), Buffer.from('","negative":""}]}')]);
    const notices = new NoticeBoard();
    const store = await openFile(bytes, { notices });

    const backups = await setAside();
    assert.equal(backups.length, 1);
    assert.deepEqual(await readFile(path.join(dir, backups[0] as string)), bytes, 'the original bytes are kept');
    assert.deepEqual(plain(store), [{ idx: 1, prompt: 'test', negative: '' }]);
    assert.match(notices.list()[0]?.message ?? '', /UTF-8/);
  });

  test('a readable file clears an old notice', async () => {
    const notices = new NoticeBoard();
    notices.raise('prompts:corrupt', 'from an earlier open', 'error');
    await openFile('{"prompts":[{"idx":1,"prompt":"fine"}]}', { notices });
    assert.equal(notices.has('prompts:corrupt'), false);
  });
});
