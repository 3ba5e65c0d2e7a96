import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PromptStore, type PromptStoreOptions } from '../../src/prompts/prompt-store.js';
import { importUpstreamPrompts, parseUpstreamPrompts } from '../../src/prompts/upstream-import.js';
import { ManualClock } from '../../src/util/clock.js';
import { createMemoryLogger } from '../../src/util/logger.js';

// The example of upstream's README (maxifly/ImageServer, 1.02), translated.
const README_EXAMPLE = `prompts:
    - idx: 1
      prompt: '[[color]] robot-man with big [[color]] eyes. Holds a [[weapon]]'
      placeholders:
        weapon:
        - rifle
        - blaster
    - idx: 2
      prompt: cuckoo
      negative: blurry
global_placeholders:
    weapon:
      - stone
      - axe
    color:
      - blood red
      - gold
      - black
      - pink
`;

let dir: string;
let json: string;
let yaml: string;
let logger: ReturnType<typeof createMemoryLogger>;
let clock: ManualClock;
const backupName = 'prompts.yaml.imported-20260304T050607089Z';

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
  json = path.join(dir, 'prompts.json');
  yaml = path.join(dir, 'prompts.yaml');
  logger = createMemoryLogger();
  clock = new ManualClock(new Date('2026-03-04T05:06:07.089Z'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openStore(options: Partial<PromptStoreOptions> = {}): Promise<PromptStore> {
  const store = new PromptStore({ file: json, logger, clock, upstreamFile: yaml, ...options });
  await store.open();
  return store;
}

async function onDisk(): Promise<Record<string, unknown> & { prompts: Array<Record<string, unknown>> }> {
  return JSON.parse(await readFile(json, 'utf8'));
}

const files = async (): Promise<string[]> => (await readdir(dir)).sort();
const levels = (level: string): string[] => logger.records.filter((r) => r.level === level).map((r) => r.message);

describe('upstream prompts.yaml import', () => {
  test('imported into a missing prompts.json, then kept as a backup', async () => {
    await writeFile(yaml, README_EXAMPLE);
    const store = await openStore({ random: () => 0 });

    const expected = {
      prompts: [
        { idx: 1, prompt: '[[color]] robot-man with big [[color]] eyes. Holds a [[weapon]]', negative: '', placeholders: { weapon: ['rifle', 'blaster'] } },
        { idx: 2, prompt: 'cuckoo', negative: 'blurry' },
      ],
      global_placeholders: { weapon: ['stone', 'axe'], color: ['blood red', 'gold', 'black', 'pink'] },
    };
    assert.deepEqual(await onDisk(), expected);
    assert.deepEqual(store.list(), expected.prompts);
    assert.deepEqual(await files(), ['prompts.json', backupName]);
    assert.equal(await readFile(path.join(dir, backupName), 'utf8'), README_EXAMPLE);
    assert.ok(logger.records.some((r) => r.level === 'info' && r.meta?.movedTo === path.join(dir, backupName) && r.meta?.count === 2));
    // The README's promise: the robot's weapon comes from its own list, never the global one.
    assert.equal(store.pickFilled()?.prompt, 'blood red robot-man with big blood red eyes. Holds a rifle');
    assert.deepEqual(levels('warn'), []);
  });

  test('imported once: later starts neither import again nor touch the backup', async () => {
    await writeFile(yaml, README_EXAMPLE);
    const first = await openStore();
    await first.add({ prompt: 'added after the import' });
    clock.advance(60_000);

    const second = await openStore();
    assert.deepEqual(second.list(), first.list());
    assert.deepEqual(await files(), ['prompts.json', backupName]);
  });

  test('a prompts.json holding only the default "test" prompt is replaced by the import', async () => {
    await openStore(); // creates the default file
    assert.deepEqual((await onDisk()).prompts, [{ idx: 1, prompt: 'test', negative: '' }]);
    await writeFile(yaml, 'prompts:\n  - idx: 1\n    prompt: a lighthouse at dusk\n');
    const store = await openStore();
    assert.deepEqual(store.list(), [{ idx: 1, prompt: 'a lighthouse at dusk', negative: '' }]);
  });

  test('a prompts.json with user prompts wins; the yaml is left alone and a warning says how to import', async () => {
    await writeFile(json, JSON.stringify({ prompts: [{ idx: 1, prompt: 'my own prompt', negative: '' }] }));
    await writeFile(yaml, README_EXAMPLE);
    const store = await openStore();
    assert.deepEqual(store.list(), [{ idx: 1, prompt: 'my own prompt', negative: '' }]);
    assert.deepEqual(await files(), ['prompts.json', 'prompts.yaml']);
    assert.equal(await readFile(yaml, 'utf8'), README_EXAMPLE);
    assert.match(levels('warn').join('\n'), /both prompts\.yaml .* and prompts\.json hold prompts.*move prompts\.json away/);
  });

  test('only global lists in prompts.json count as user data too', async () => {
    await writeFile(json, JSON.stringify({ prompts: [{ idx: 1, prompt: 'test', negative: '' }], global_placeholders: { a: ['b'] } }));
    await writeFile(yaml, README_EXAMPLE);
    const result = await importUpstreamPrompts({ yamlFile: yaml, jsonFile: json, current: await onDisk() as never, maxCount: 10, logger, clock });
    assert.equal(result.outcome, 'kept-json');
  });

  test('a crash between writing prompts.json and renaming the yaml is finished at the next start', async () => {
    await writeFile(yaml, README_EXAMPLE);
    await openStore();
    // Put the yaml back as if the rename had never happened.
    await rm(path.join(dir, backupName));
    await writeFile(yaml, README_EXAMPLE);
    clock.advance(1);

    const store = await openStore();
    assert.equal(store.size, 2);
    assert.deepEqual(await files(), ['prompts.json', 'prompts.yaml.imported-20260304T050607090Z']);
    assert.deepEqual(levels('warn'), []);
  });

  test('more prompts than prompts_amount: the newest (highest idx) are kept and the log says so', async () => {
    // Out of order in the file on purpose: idx, not position, says which is newest.
    const entries = [3, 1, 5, 2, 4].map((idx) => `  - idx: ${idx}\n    prompt: prompt ${idx}\n`).join('');
    await writeFile(yaml, `prompts:\n${entries}`);
    const store = await openStore({ maxCount: 3 });

    assert.deepEqual(store.list().map((p) => [p.idx, p.prompt]), [[1, 'prompt 3'], [2, 'prompt 4'], [3, 'prompt 5']]);
    assert.deepEqual((await onDisk()).prompts.map((p) => p.prompt), ['prompt 3', 'prompt 4', 'prompt 5']);
    const warning = logger.records.find((r) => r.level === 'warn' && /more prompts than allowed/.test(r.message));
    assert.equal(warning?.meta?.found, 5);
    assert.equal(warning?.meta?.kept, 3);
    assert.ok((await files()).includes(backupName));
  });

  test('a broken yaml is logged and left alone; prompts.json is not touched', async () => {
    const broken = ['prompts:\n  - idx: 1\n    prompt: "unclosed\n', 'prompts: "just text"\n', '- a\n- b\n', '', 'prompts:\n  - idx: 1\n    prompt: x\n    placeholders:\n      color: red\n'];
    for (const [i, text] of broken.entries()) {
      logger.records.length = 0;
      await writeFile(json, JSON.stringify({ prompts: [{ idx: 1, prompt: 'test', negative: '' }] }));
      await writeFile(yaml, text);
      const store = await openStore();
      assert.deepEqual(store.list(), [{ idx: 1, prompt: 'test', negative: '' }], `case ${i}`);
      assert.deepEqual(await files(), ['prompts.json', 'prompts.yaml'], `case ${i}`);
      assert.equal(await readFile(yaml, 'utf8'), text);
      const error = logger.records.find((r) => r.level === 'error');
      assert.match(error?.message ?? '', /cannot import the upstream prompts\.yaml; left it as it is/, `case ${i}`);
      assert.equal(typeof error?.meta?.problem, 'string');
    }
  });

  test('a yaml that cannot be read is logged, not thrown', async () => {
    await mkdir(yaml); // EISDIR: fails to read even for root, unlike a chmod 000 file
    const store = await openStore();
    assert.deepEqual(store.list().map((p) => p.prompt), ['test']);
    assert.match(logger.records.find((r) => r.level === 'error')?.meta?.problem as string, /cannot read it/);
  });

  test('a corrupt prompts.json is moved aside first, then the yaml is imported', async () => {
    await writeFile(json, '{"prompts": [');
    await writeFile(yaml, README_EXAMPLE);
    const store = await openStore();
    assert.equal(store.size, 2);
    assert.deepEqual(await files(), ['prompts.json', 'prompts.json.corrupt-20260304T050607089Z', backupName]);
  });

  test('without upstreamFile the store never looks for a yaml', async () => {
    await writeFile(yaml, README_EXAMPLE);
    const store = new PromptStore({ file: json, logger, clock });
    await store.open();
    assert.deepEqual(store.list().map((p) => p.prompt), ['test']);
    assert.deepEqual(await files(), ['prompts.json', 'prompts.yaml']);
  });
});

describe('parseUpstreamPrompts', () => {
  test('scalars are kept as written, as upstream\'s Go decoder keeps them in text fields', () => {
    const parsed = parseUpstreamPrompts(
      'prompts:\n  - idx: 1\n    prompt: 123\n    negative: ~\n    placeholders:\n      n: [1.0, yes, 0x1F, 2026-01-01, "quoted", ~, ""]\n',
    );
    assert.ok('document' in parsed);
    assert.deepEqual(parsed.document.prompts, [{ idx: 1, prompt: '123', negative: '', placeholders: { n: ['1.0', 'yes', '0x1F', '2026-01-01', 'quoted'] } }]);
  });

  test('Cyrillic, quotes and special characters come through unchanged', () => {
    const parsed = parseUpstreamPrompts(
      "prompts:\n  - idx: 1\n    prompt: 'тест [[CoLoRs]] blabla $& \\\\'\nglobal_placeholders:\n  CoLoRs:\n    - красный\n    - зелёный презелёный\n",
    );
    assert.ok('document' in parsed);
    assert.deepEqual(parsed.document, {
      prompts: [{ idx: 1, prompt: 'тест [[CoLoRs]] blabla $& \\\\', negative: '' }],
      global_placeholders: { CoLoRs: ['красный', 'зелёный презелёный'] },
    });
  });

  test('later upstream files (code instead of idx) keep their age order', () => {
    const codes = ['prmt_2026_01_02_10_00_00', 'prmt_10', 'prmt_2025_12_31_23_59_59', 'prmt_2', 'custom'];
    const parsed = parseUpstreamPrompts(`prompts:\n${codes.map((code) => `  - code: ${code}\n    prompt: from ${code}\n`).join('')}`);
    assert.ok('document' in parsed);
    assert.deepEqual(
      parsed.document.prompts.map((p) => p.prompt),
      ['from prmt_2', 'from prmt_10', 'from prmt_2025_12_31_23_59_59', 'from prmt_2026_01_02_10_00_00', 'from custom'],
    );
  });

  test('empty, overlong and repeated prompts are skipped with a reason; the newest repeat is kept', () => {
    const parsed = parseUpstreamPrompts(
      `prompts:\n  - idx: 1\n    prompt: A cat\n  - idx: 2\n    prompt: "  "\n  - idx: 3\n    prompt: ${'x'.repeat(2001)}\n  - idx: 4\n    prompt: a  CAT\n    negative: dogs\n  - idx: 5\n    prompt: owl\n`,
    );
    assert.ok('document' in parsed);
    assert.deepEqual(parsed.document.prompts, [
      { idx: 1, prompt: 'a  CAT', negative: 'dogs' },
      { idx: 2, prompt: 'owl', negative: '' },
    ]);
    assert.deepEqual(parsed.skipped, ['prompts[1]: the prompt is empty', 'prompts[2]: the prompt is 2001 characters long; at most 2000 are allowed', 'prompts[0]: repeats a newer prompt']);
  });

  test('a file with no usable prompt, or an alias bomb, is a problem', () => {
    assert.deepEqual(parseUpstreamPrompts('prompts: []\n'), { problem: 'it holds no usable prompt' });
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`), 'prompts: [*h]'].join('\n');
    assert.match((parseUpstreamPrompts(bomb) as { problem: string }).problem, /alias/i);
  });
});
