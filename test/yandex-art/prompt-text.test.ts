import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aspectRatio, buildPromptText, DEFAULT_NEGATIVE_PREFIX } from '../../src/providers/yandex-art/prompt-text.js';

test('the negative is appended with upstream wording', () => {
  assert.equal(DEFAULT_NEGATIVE_PREFIX, '. Игнорировать следующее: ');
  assert.deepEqual(buildPromptText('a cat', 'dogs'), { text: 'a cat. Игнорировать следующее: dogs', prompt: 'a cat' });
  assert.deepEqual(buildPromptText('a cat', '  '), { text: 'a cat', prompt: 'a cat' });
  assert.deepEqual(buildPromptText(' a cat ', undefined), { text: 'a cat', prompt: 'a cat' });
});

test('over 500 characters: the prompt is cut by code points, never inside a surrogate pair', () => {
  const prompt = `${'x'.repeat(499)}🌅🌅`;
  const built = buildPromptText(prompt, 'people');
  assert.equal(Array.from(built.text).length, 500);
  assert.ok(built.text.endsWith('x🌅'));
  assert.equal(built.prompt, built.text);
  assert.match(built.warning ?? '', /501 characters.*cut; the negative prompt was left out/);
});

test('prompt fits, negative does not: the negative is cut, or left out when little room is left', () => {
  const cut = buildPromptText('p'.repeat(400), 'n'.repeat(200));
  assert.equal(Array.from(cut.text).length, 500);
  assert.equal(cut.prompt, 'p'.repeat(400));
  assert.match(cut.warning ?? '', /negative prompt was cut/);
  const dropped = buildPromptText('p'.repeat(470), 'n'.repeat(50));
  assert.equal(dropped.text, 'p'.repeat(470));
  assert.match(dropped.warning ?? '', /left out/);
  assert.equal(buildPromptText('p'.repeat(500), undefined).warning, undefined, 'exactly 500 is fine');
});

test('aspect ratios in lowest terms', () => {
  assert.deepEqual(aspectRatio(320, 480), { widthRatio: 2, heightRatio: 3 });
  assert.deepEqual(aspectRatio(480, 320), { widthRatio: 3, heightRatio: 2 });
  assert.deepEqual(aspectRatio(800, 480), { widthRatio: 5, heightRatio: 3 });
  assert.deepEqual(aspectRatio(321, 479), { widthRatio: 321, heightRatio: 479 });
  assert.throws(() => aspectRatio(0, 480), RangeError);
});
