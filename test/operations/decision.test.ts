import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type DecisionInput } from '../../src/operations/decision.js';

const ready = [
  { id: 'offline', acceptsPrompt: true },
  { id: 'lim', acceptsPrompt: false },
];
const base: DecisionInput = { type: 'auto', hasPrompt: false, libraryEmpty: false, thresholdPassed: false, ready };

describe('decision', () => {
  test('auto within the threshold serves a stored picture', () => {
    assert.equal(decide(base).action, 'library');
  });

  test('auto after the threshold generates with any ready provider', () => {
    const decision = decide({ ...base, thresholdPassed: true });
    assert.equal(decision.action, 'generate');
    assert.deepEqual(decision.action === 'generate' && decision.providers, ['offline', 'lim']);
  });

  test('auto after the threshold with no provider ready serves a stored picture', () => {
    assert.equal(decide({ ...base, thresholdPassed: true, ready: [] }).action, 'library');
  });

  test('an empty library generates, whatever the type', () => {
    for (const type of ['auto', 'old', 'ydart']) {
      assert.equal(decide({ ...base, type, libraryEmpty: true }).action, 'generate', type);
    }
  });

  test('old always serves a stored picture when there is one', () => {
    assert.equal(decide({ ...base, type: 'old', thresholdPassed: true }).action, 'library');
  });

  test('ydart always generates, ignoring the threshold', () => {
    assert.equal(decide({ ...base, type: 'ydart' }).action, 'generate');
  });

  test('ydart with a prompt only uses providers that take prompts', () => {
    const decision = decide({ ...base, type: 'ydart', hasPrompt: true });
    assert.deepEqual(decision.action === 'generate' && decision.providers, ['offline']);
  });

  test('ydart with a prompt and only prompt-less providers falls back to the library', () => {
    const decision = decide({ ...base, type: 'ydart', hasPrompt: true, ready: [{ id: 'lim', acceptsPrompt: false }] });
    assert.equal(decision.action, 'library');
  });

  test('a provider id asks for that provider, or a stored picture when it is not ready', () => {
    const named = decide({ ...base, type: 'lim' });
    assert.deepEqual(named.action === 'generate' && named.providers, ['lim']);
    assert.equal(decide({ ...base, type: 'lim', ready: [ready[0]!] }).action, 'library');
  });

  test('auto with a prompt of its own generates with a provider that takes it', () => {
    const decision = decide({ ...base, hasPrompt: true });
    assert.deepEqual(decision.action === 'generate' && decision.providers, ['offline']);
  });
});
