import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { PromptEntry } from '../../src/prompts/prompt-file.js';
import { fillPrompt, fillTemplate, findMissingPlaceholders, hasPlaceholders, placeholderNames } from '../../src/prompts/prompt-template.js';

/** A random source that returns the given numbers in turn (and fails the test if asked once too often). */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => {
    assert.ok(i < values.length, 'random() was called more often than expected');
    return values[i++] as number;
  };
}

const never = (): number => assert.fail('random() must not be called');

// The cases of upstream's templater_test.go (maxifly/ImageServer, src/internal/pkg/templater/), and more.
describe('fillTemplate, upstream cases', () => {
  test('one value', () => {
    assert.equal(fillTemplate('Hello, [[name]]!', { name: ['World'] }, {}, sequence(0.7)), 'Hello, World!');
  });

  test('several values: the injected random picks, the last value is reachable', () => {
    const values = { name: ['Bob', 'Alice', 'World'] };
    assert.equal(fillTemplate('Hello, [[name]]!', values, {}, sequence(0)), 'Hello, Bob!');
    assert.equal(fillTemplate('Hello, [[name]]!', values, {}, sequence(0.34)), 'Hello, Alice!');
    assert.equal(fillTemplate('Hello, [[name]]!', values, {}, sequence(0.9999)), 'Hello, World!');
    // An out-of-range random never reads past the list.
    assert.equal(fillTemplate('Hello, [[name]]!', values, {}, sequence(1)), 'Hello, World!');
    assert.equal(fillTemplate('Hello, [[name]]!', values, {}, sequence(-0.5)), 'Hello, Bob!');
    for (let i = 0; i < 50; i++) {
      assert.ok(['Hello, Bob!', 'Hello, Alice!', 'Hello, World!'].includes(fillTemplate('Hello, [[name]]!', values, {})));
    }
  });

  test('several placeholders', () => {
    assert.equal(
      fillTemplate('Hello, [[name]]! Welcome to [[app_name]].', { name: ['Alice'], app_name: ['MiniMax'] }, {}, sequence(0, 0)),
      'Hello, Alice! Welcome to MiniMax.',
    );
  });

  test('a repeated placeholder is drawn independently at each place', () => {
    const colors = { color: ['red', 'gold', 'black'] };
    assert.equal(
      fillTemplate('[[color]] robot with big [[color]] eyes, [[color]] boots', colors, {}, sequence(0, 0.5, 0.99)),
      'red robot with big gold eyes, black boots',
    );
  });

  test('a missing key is left as written', () => {
    assert.equal(fillTemplate('Hello, [[name]]! Today is [[date]]', { name: ['Bob'] }, {}, sequence(0)), 'Hello, Bob! Today is [[date]]');
    assert.equal(fillTemplate('Hello, [[name]]!', {}, {}, never), 'Hello, [[name]]!');
  });

  test('an empty list is left as written', () => {
    assert.equal(fillTemplate('Hello, [[name]]!', { name: [] }, {}, never), 'Hello, [[name]]!');
    assert.equal(fillTemplate('Hello, [[name]]!', { name: [] }, { name: [] }, never), 'Hello, [[name]]!');
  });

  test('a text without placeholders is unchanged; extra lists are unused', () => {
    assert.equal(fillTemplate('Hello, World!', { name: ['Alice'] }, { extra: ['value'] }, never), 'Hello, World!');
    assert.equal(fillTemplate('', { name: ['Alice'] }, {}, never), '');
  });

  test('special characters in values are inserted literally', () => {
    const cases: Array<[string, string]> = [
      ['/home/user/documents/file.txt', 'Path: /home/user/documents/file.txt'],
      ['$&', 'Path: $&'],
      ['$1 and $$ and $` and $\'', 'Path: $1 and $$ and $` and $\''],
      ['C:\\temp\\new', 'Path: C:\\temp\\new'],
      ['.*+?^${}()|[]\\', 'Path: .*+?^${}()|[]\\'],
      ['зелёный презелёный', 'Path: зелёный презелёный'],
      ['🦊 fox', 'Path: 🦊 fox'],
    ];
    for (const [value, expected] of cases) {
      assert.equal(fillTemplate('Path: [[path]]', { path: [value] }, {}, sequence(0)), expected);
    }
  });

  test('names are letters, digits, "_" and "-"; anything else is plain text', () => {
    const lists = { user_name: ['u'], 'user-id': ['7'], APP_VERSION_2_0: ['2.0'], 'user name': ['x'], 'user@name': ['x'], 'user.name': ['x'] };
    assert.equal(fillTemplate('[[user_name]] [[user-id]] [[APP_VERSION_2_0]]', lists, {}, sequence(0, 0, 0)), 'u 7 2.0');
    assert.equal(fillTemplate('[[user name]] [[user@name]] [[user.name]] [[]] [name]', lists, {}, never), '[[user name]] [[user@name]] [[user.name]] [[]] [name]');
    assert.equal(fillTemplate('[[Name]]', { name: ['lower'] }, {}, never), '[[Name]]', 'names are case-sensitive');
  });
});

describe('fillTemplate, our rules', () => {
  test('local lists win over global ones; a name only in the global lists comes from there', () => {
    const local = { weapon: ['blaster'] };
    const global = { weapon: ['stone'], color: ['gold'] };
    assert.equal(fillTemplate('[[color]] robot with a [[weapon]]', local, global, sequence(0, 0)), 'gold robot with a blaster');
  });

  test('an empty local list falls through to the global one', () => {
    assert.equal(fillTemplate('[[color]]', { color: [] }, { color: ['gold'] }, sequence(0)), 'gold');
  });

  test('a value holding [[x]] is not expanded again', () => {
    assert.equal(fillTemplate('[[a]]', { a: ['see [[b]]'] }, { b: ['never'] }, sequence(0)), 'see [[b]]');
  });

  test("Object's own member names are placeholders like any other", () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.equal(fillTemplate(`[[${name}]]`, {}, {}, never), `[[${name}]]`);
    }
    const parsed = JSON.parse('{"__proto__": ["proto value"], "constructor": ["ctor value"]}') as Record<string, string[]>;
    assert.equal(fillTemplate('[[__proto__]] / [[constructor]]', parsed, {}, sequence(0, 0)), 'proto value / ctor value');
  });

  test('a third bracket stays around the value, as with upstream\'s pattern', () => {
    assert.equal(fillTemplate('[[[name]]]', { name: ['x'] }, {}, sequence(0)), '[x]');
  });
});

describe('fillPrompt', () => {
  const entry = (fields: Partial<PromptEntry>): PromptEntry => ({ idx: 1, prompt: '', negative: '', ...fields });

  test('fills prompt and negative from the entry lists, then the globals; keeps the template', () => {
    const filled = fillPrompt(
      entry({ prompt: '[[color]] robot, [[weapon]]', negative: '[[weapon]] in the background', placeholders: { weapon: ['blaster', 'axe'] } }),
      { weapon: ['stone'], color: ['pink'] },
      sequence(0, 0.9, 0.1),
    );
    assert.deepEqual(filled, { prompt: 'pink robot, axe', template: '[[color]] robot, [[weapon]]', negative: 'blaster in the background' });
  });

  test('an empty negative is left out; a prompt without placeholders comes back as it is', () => {
    assert.deepEqual(fillPrompt(entry({ prompt: 'a quiet harbour' }), { x: ['y'] }, never), { prompt: 'a quiet harbour', template: 'a quiet harbour' });
    assert.deepEqual(fillPrompt({ prompt: 'a [[x]]' }, { x: ['cat'] }, sequence(0)), { prompt: 'a cat', template: 'a [[x]]' });
  });

  test('malformed entry lists are ignored, so the globals (or the text as written) are used', () => {
    const bad = entry({ prompt: '[[color]] [[size]]', placeholders: { color: 'red', size: [''] } });
    assert.equal(fillPrompt(bad, { color: ['gold'] }, sequence(0)).prompt, 'gold [[size]]');
    assert.equal(fillPrompt(entry({ prompt: '[[color]]', placeholders: ['red'] }), {}, never).prompt, '[[color]]');
  });
});

describe('placeholder names and missing values', () => {
  test('placeholderNames lists distinct names in order of first appearance', () => {
    assert.deepEqual(placeholderNames('[[b]] [[a]] [[b]] [[c d]] [[a-1]]'), ['b', 'a', 'a-1']);
    assert.equal(hasPlaceholders('no [placeholders] here'), false);
    assert.equal(hasPlaceholders('a [[x]]'), true);
  });

  test('findMissingPlaceholders names each prompt idx, placeholder and text once', () => {
    const entries: PromptEntry[] = [
      { idx: 1, prompt: 'plain', negative: '' },
      { idx: 2, prompt: '[[color]] [[mood]] [[mood]]', negative: '[[fog]]', placeholders: { mood: [] } },
      { idx: 3, prompt: '[[mood]]', negative: '', placeholders: { mood: ['calm'] } },
    ];
    assert.deepEqual(findMissingPlaceholders(entries, { color: ['red'], fog: [] }), [
      { idx: 2, placeholder: 'mood', field: 'prompt' },
      { idx: 2, placeholder: 'fog', field: 'negative' },
    ]);
  });
});
