import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ClipTokenizer } from '../../src/providers/onnx-sd/tokenizer/clip-tokenizer.js';

/**
 * A faithful subset of CLIP's vocab.json / merges.txt (openai/clip-vit-large-patch14, the
 * SD 1.x/2.x tokenizer). Ids 0–511 are CLIP's byte tokens in GPT-2's bytes_to_unicode order
 * (plain, then with </w>); whole words, the specials and the early merges carry their real ids
 * (shared/onnx-sd.md §7.1 reference ids; "or", "to</w>", "at</w>", "el", "'s</w>", "it</w>" are
 * merges 11, 19, 24, 32, 56, 73 of the real merges.txt, id = 512 + rank). The other intermediate
 * merges use stand-in ids ≥ 40000 that no test asserts. The merge lines are real CLIP merges in
 * their real relative order; a subset that contains every merge a word's BPE uses derives the
 * same tokens as the full list.
 */
function byteTokens(): string[] {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const chars = bytes.map((b) => String.fromCharCode(b));
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) chars.push(String.fromCharCode(256 + extra++));
  }
  return chars;
}

function fixtureVocab(): Record<string, number> {
  const vocab: Record<string, number> = {};
  const bytes = byteTokens();
  bytes.forEach((token, id) => {
    vocab[token] = id;
    vocab[`${token}</w>`] = 256 + id;
  });
  Object.assign(vocab, {
    or: 523,
    'to</w>': 531,
    'at</w>': 536,
    'of</w>': 539,
    el: 544,
    "'s</w>": 568,
    'it</w>': 585,
    ho: 40001,
    do: 40002,
    wor: 40003,
    'ld</w>': 40004,
    pho: 40005,
    ell: 40006,
    'world</w>': 1002,
    'photo</w>': 1125,
    'dog</w>': 1929,
    'cat</w>': 2368,
    'ello</w>': 2512,
    'hello</w>': 3306,
    '<|startoftext|>': 49406,
    '<|endoftext|>': 49407,
  });
  return vocab;
}

const FIXTURE_MERGES = [
  '#version: 0.2',
  'o r',
  't o</w>',
  'a t</w>',
  'o f</w>',
  'e l',
  "' s</w>",
  'i t</w>',
  'h o',
  'd o',
  'w or',
  'l d</w>',
  'p ho',
  'el l',
  'wor ld</w>',
  'pho to</w>',
  'do g</w>',
  'c at</w>',
  'ell o</w>',
  'h ello</w>',
  '',
].join('\n');

const BOS = 49406;
const EOS = 49407;

describe('ClipTokenizer.fromFiles', () => {
  const tokenizer = ClipTokenizer.fromFiles(fixtureVocab(), FIXTURE_MERGES);

  test('reference ids: "a photo of a cat", "a photo of a dog", "Hello, world!"', () => {
    assert.deepEqual(tokenizer.encode('a photo of a cat').slice(0, 7), [BOS, 320, 1125, 539, 320, 2368, EOS]);
    assert.deepEqual(tokenizer.encode('a photo of a dog').slice(0, 7), [BOS, 320, 1125, 539, 320, 1929, EOS]);
    assert.deepEqual(tokenizer.encode('Hello, world!').slice(0, 6), [BOS, 3306, 267, 1002, 256, EOS]);
  });

  test('exactly 77 ids, padded with <|endoftext|> by default (SD 1.x)', () => {
    const ids = tokenizer.encode('a photo of a cat');
    assert.equal(tokenizer.maxLength, 77);
    assert.equal(tokenizer.padId, EOS);
    assert.equal(tokenizer.bosId, BOS);
    assert.equal(tokenizer.eosId, EOS);
    assert.equal(ids.length, 77);
    assert.deepEqual(ids.slice(7), new Array(70).fill(EOS));
  });

  test('empty and blank text give start and end tokens only', () => {
    for (const text of ['', '   ', '\t\n ']) {
      const ids = tokenizer.encode(text);
      assert.equal(ids.length, 77);
      assert.deepEqual(ids.slice(0, 3), [BOS, EOS, EOS], JSON.stringify(text));
    }
  });

  test('case and extra whitespace do not matter', () => {
    assert.deepEqual(tokenizer.encode('  A   Photo\tof a\n\nCAT '), tokenizer.encode('a photo of a cat'));
  });

  test("contractions split as CLIP's regex says: it's → it</w> 's</w>", () => {
    assert.deepEqual(tokenizer.encode("it's a cat").slice(0, 6), [BOS, 585, 568, 320, 2368, EOS]);
  });

  test('text is NFC-normalised before the byte-level mapping', () => {
    const composed = tokenizer.encode('caf\u00e9');
    assert.deepEqual(tokenizer.encode('cafe\u0301'), composed);
    // "é" is two UTF-8 bytes, mapped to the byte tokens Ã and ©</w>: never the unknown token.
    const bytes = byteTokens();
    assert.deepEqual(composed.slice(0, 7), [
      BOS,
      bytes.indexOf('c'),
      bytes.indexOf('a'),
      bytes.indexOf('f'),
      bytes.indexOf('\u00c3'),
      256 + bytes.indexOf('\u00a9'),
      EOS,
    ]);
  });

  test('long text is cut to 75 tokens and the end token stays last', () => {
    const ids = tokenizer.encode('cat '.repeat(100));
    assert.equal(ids.length, 77);
    assert.equal(ids[0], BOS);
    assert.deepEqual(ids.slice(1, 76), new Array(75).fill(2368));
    assert.equal(ids[76], EOS);
    // 75 tokens fit exactly; 74 leave one pad.
    assert.deepEqual(tokenizer.encode('cat '.repeat(75)).slice(75), [2368, EOS]);
    assert.deepEqual(tokenizer.encode('cat '.repeat(74)).slice(74), [2368, EOS, EOS]);
  });

  test('pad token and length options: "!" pads with id 0 (SD 2.x / Turbo)', () => {
    const sd2 = ClipTokenizer.fromFiles(fixtureVocab(), FIXTURE_MERGES, { padToken: '!', maxLength: 10 });
    assert.equal(sd2.padId, 0);
    assert.equal(sd2.maxLength, 10);
    assert.deepEqual(sd2.encode('a photo of a cat'), [BOS, 320, 1125, 539, 320, 2368, EOS, 0, 0, 0]);
    assert.deepEqual(sd2.encode('hello world hello world hello world hello world hello'), [BOS, 3306, 1002, 3306, 1002, 3306, 1002, 3306, 1002, EOS]);
    assert.deepEqual(sd2.encode(''), [BOS, EOS, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test('bad inputs throw errors naming the file', () => {
    const merges = FIXTURE_MERGES;
    assert.throws(() => ClipTokenizer.fromFiles([] as unknown as Record<string, number>, merges), /vocab\.json: expected a JSON object/);
    assert.throws(() => ClipTokenizer.fromFiles({ ...fixtureVocab(), a: 'one' as unknown as number }, merges), /vocab\.json: token "a" has id "one"/);
    const { ['<|startoftext|>']: _unused, ...noStart } = fixtureVocab();
    assert.throws(() => ClipTokenizer.fromFiles(noStart, merges), /vocab\.json: CLIP vocabulary lacks <\|startoftext\|>/);
    assert.throws(() => ClipTokenizer.fromFiles(fixtureVocab(), '#version: 0.2\n'), /merges\.txt: no merge rules/);
    assert.throws(() => ClipTokenizer.fromFiles(fixtureVocab(), '#version: 0.2\no r\np h o\n'), /merges\.txt line 3: expected two tokens/);
    assert.throws(() => ClipTokenizer.fromFiles(fixtureVocab(), '#version: 0.2\nq z\n'), /merges\.txt line 2: "q z" uses a token that is not in vocab\.json/);
    assert.throws(() => ClipTokenizer.fromFiles(fixtureVocab(), merges, { padToken: '<pad>' }), /pad token "<pad>" is not in vocab\.json/);
    assert.throws(() => ClipTokenizer.fromFiles(fixtureVocab(), merges, { maxLength: 1 }), /maxLength/);
  });

  test('Windows line endings in merges.txt are fine', () => {
    const crlf = ClipTokenizer.fromFiles(fixtureVocab(), FIXTURE_MERGES.replace(/\n/g, '\r\n'));
    assert.deepEqual(crlf.encode('Hello, world!'), tokenizer.encode('Hello, world!'));
  });
});

describe('ClipTokenizer.fromFolder', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function folder(name: string, files: Record<string, string>): Promise<string> {
    const dir = path.join(root, name);
    await mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
    return dir;
  }

  const vocabJson = JSON.stringify(fixtureVocab());

  test('SD 1.x layout: pad <|endoftext|> from tokenizer_config.json (AddedToken form), 77 ids', async () => {
    const dir = await folder('sd15', {
      'vocab.json': vocabJson,
      'merges.txt': FIXTURE_MERGES,
      'tokenizer_config.json': JSON.stringify({
        model_max_length: 77,
        pad_token: { __type: 'AddedToken', content: '<|endoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false },
        tokenizer_class: 'CLIPTokenizer',
      }),
      'special_tokens_map.json': JSON.stringify({ bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' }),
    });
    const tokenizer = await ClipTokenizer.fromFolder(dir);
    assert.equal(tokenizer.padId, EOS);
    assert.equal(tokenizer.maxLength, 77);
    const ids = tokenizer.encode('a photo of a cat');
    assert.deepEqual(ids.slice(0, 8), [BOS, 320, 1125, 539, 320, 2368, EOS, EOS]);
  });

  test('SD 2.x / Turbo layout: special_tokens_map.json pad "!" → id 0, and wins over tokenizer_config.json', async () => {
    const dir = await folder('sd21', {
      'vocab.json': vocabJson,
      'merges.txt': FIXTURE_MERGES,
      'tokenizer_config.json': JSON.stringify({ model_max_length: 77, pad_token: '<|endoftext|>' }),
      'special_tokens_map.json': JSON.stringify({ pad_token: '!', bos_token: { content: '<|startoftext|>' } }),
    });
    const tokenizer = await ClipTokenizer.fromFolder(dir);
    assert.equal(tokenizer.padId, 0);
    const ids = tokenizer.encode('Hello, world!');
    assert.equal(ids.length, 77);
    assert.deepEqual(ids.slice(0, 8), [BOS, 3306, 267, 1002, 256, EOS, 0, 0]);
    assert.deepEqual(ids.slice(6), new Array(71).fill(0));
  });

  test('only vocab.json and merges.txt: defaults (pad <|endoftext|>, 77); a "no limit" model_max_length is ignored', async () => {
    const bare = await ClipTokenizer.fromFolder(await folder('bare', { 'vocab.json': vocabJson, 'merges.txt': FIXTURE_MERGES }));
    assert.equal(bare.padId, EOS);
    assert.equal(bare.maxLength, 77);
    const huge = await ClipTokenizer.fromFolder(
      await folder('huge', {
        'vocab.json': vocabJson,
        'merges.txt': FIXTURE_MERGES,
        'tokenizer_config.json': '{"model_max_length": 1000000000000000019884624838656}',
      }),
    );
    assert.equal(huge.maxLength, 77);
  });

  test('missing or corrupt files throw errors naming the file', async () => {
    const noVocab = await folder('no-vocab', { 'merges.txt': FIXTURE_MERGES });
    await assert.rejects(ClipTokenizer.fromFolder(noVocab), (error: Error) => {
      assert.ok(error.message.includes(path.join(noVocab, 'vocab.json')), error.message);
      assert.match(error.message, /is missing/);
      return true;
    });
    const noMerges = await folder('no-merges', { 'vocab.json': vocabJson });
    await assert.rejects(ClipTokenizer.fromFolder(noMerges), new RegExp(`${escape(path.join(noMerges, 'merges.txt'))} is missing`));
    const badVocab = await folder('bad-vocab', { 'vocab.json': '{"a": 1,', 'merges.txt': FIXTURE_MERGES });
    await assert.rejects(ClipTokenizer.fromFolder(badVocab), new RegExp(`${escape(path.join(badVocab, 'vocab.json'))}: not valid JSON`));
    const badMerges = await folder('bad-merges', { 'vocab.json': vocabJson, 'merges.txt': '#version: 0.2\no r\nt h e r e\n' });
    await assert.rejects(ClipTokenizer.fromFolder(badMerges), new RegExp(`${escape(path.join(badMerges, 'merges.txt'))} line 3`));
    const badSpecial = await folder('bad-special', {
      'vocab.json': vocabJson,
      'merges.txt': FIXTURE_MERGES,
      'special_tokens_map.json': 'pad_token: "!"',
    });
    await assert.rejects(ClipTokenizer.fromFolder(badSpecial), /special_tokens_map\.json: not valid JSON/);
    const unknownPad = await folder('unknown-pad', {
      'vocab.json': vocabJson,
      'merges.txt': FIXTURE_MERGES,
      'special_tokens_map.json': '{"pad_token": "<pad>"}',
    });
    await assert.rejects(ClipTokenizer.fromFolder(unknownPad), /special_tokens_map\.json: pad token "<pad>" is not in .*vocab\.json/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
