/** OperationStore's listeners, behind the API's live progress. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OperationStore, type OperationChange } from '../../src/operations/operation-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { createMemoryLogger } from '../../src/util/logger.js';

describe('operation listeners', () => {
  test('hear every change of their operation until they unsubscribe', () => {
    const store = new OperationStore({ clock: new ManualClock() });
    const watched = store.create('auto');
    const other = store.create('auto');
    const heard: OperationChange[] = [];
    const unsubscribe = store.subscribe(watched.id, (_operation, change) => heard.push(change));
    store.update(watched, { progress: { step: 1, total: 2 } });
    store.update(other, { progress: { step: 1, total: 2 } });
    store.update(watched, { status: 'done', source: 'provider' });
    assert.deepEqual(heard, [{ progress: { step: 1, total: 2 } }, { status: 'done', source: 'provider' }]);
    assert.equal(store.listenerCount(watched.id), 1);
    unsubscribe();
    unsubscribe();
    assert.equal(store.listenerCount(), 0);
    store.update(watched, { note: 'later' });
    assert.equal(heard.length, 2);
  });

  test('a failing listener is logged and neither breaks the update nor silences the others', () => {
    const logger = createMemoryLogger();
    const store = new OperationStore({ clock: new ManualClock(), logger });
    const operation = store.create('auto');
    let heard = 0;
    store.subscribe(operation.id, () => {
      throw new Error('client gone');
    });
    store.subscribe(operation.id, () => (heard += 1));
    store.update(operation, { progress: { step: 1, total: 1 } });
    assert.equal(heard, 1);
    assert.deepEqual(operation.progress, { step: 1, total: 1 });
    assert.ok(logger.records.some((record) => record.level === 'error' && record.message === 'an operation listener failed'));
  });

  test('a preview is kept while the operation runs and dropped when it ends', () => {
    const store = new OperationStore({ clock: new ManualClock() });
    const operation = store.create('auto');
    store.update(operation, { progress: { step: 1, total: 2, preview: new Uint8Array([1, 2, 3]) } });
    assert.ok(operation.progress?.preview);
    store.update(operation, { status: 'done' });
    assert.deepEqual(operation.progress, { step: 1, total: 2 });
  });

  test('an operation evicted while it runs still tells its listeners how it ended, so a live stream ends', () => {
    const store = new OperationStore({ clock: new ManualClock(), maxEntries: 2 });
    const watched = store.create('auto');
    const ended: string[] = [];
    const unsubscribe = store.subscribe(watched.id, (operation) => {
      if (operation.status !== 'pending') ended.push(operation.status);
    });
    // Every entry is pending: the oldest goes anyway, to keep memory bounded.
    store.create('auto');
    store.create('auto');
    assert.equal(store.get(watched.id), undefined, 'evicted');
    // The generation holds the operation itself and finishes it as usual.
    store.update(watched, { status: 'done', source: 'provider' });
    assert.deepEqual(ended, ['done']);
    unsubscribe();
    assert.equal(store.listenerCount(), 0);
  });
});
