import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OperationStore, OPERATION_ID_PATTERN } from '../../src/operations/operation-store.js';
import { RecentPictures } from '../../src/operations/recent-pictures.js';
import { ManualClock } from '../../src/util/clock.js';

describe('operation store', () => {
  test('ids are short, URL-safe and unique across many creations', () => {
    const store = new OperationStore({ clock: new ManualClock() });
    const ids = new Set<string>();
    for (let i = 0; i < 5000; i += 1) ids.add(store.create('auto').id);
    assert.equal(ids.size, 5000);
    for (const id of ids) assert.match(id, OPERATION_ID_PATTERN);
  });

  test('finished operations stay answerable for an hour, then expire', () => {
    const clock = new ManualClock();
    const store = new OperationStore({ clock, ttlMs: 60 * 60 * 1000 });
    const operation = store.create('auto');
    store.update(operation, { status: 'done' });
    clock.advance(59 * 60 * 1000);
    store.sweep();
    assert.ok(store.get(operation.id));
    clock.advance(2 * 60 * 1000);
    store.sweep();
    assert.equal(store.get(operation.id), undefined);
  });

  test('pending operations are not expired by the sweep', () => {
    const clock = new ManualClock();
    const store = new OperationStore({ clock, ttlMs: 1000 });
    const operation = store.create('ydart');
    clock.advance(5000);
    store.sweep();
    assert.ok(store.get(operation.id));
  });

  test('memory stays bounded however many operations are started', () => {
    const store = new OperationStore({ clock: new ManualClock(), maxEntries: 100 });
    const pending = store.create('ydart');
    for (let i = 0; i < 1000; i += 1) store.update(store.create('auto'), { status: 'done' });
    assert.equal(store.size, 100);
    assert.ok(store.get(pending.id), 'finished operations are evicted before pending ones');
  });
});

describe('recent pictures', () => {
  test('avoids the last few, never all of a small library', () => {
    const recent = new RecentPictures(5);
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) recent.remember(name);
    assert.deepEqual([...recent.exclusions(100)].sort(), ['b', 'c', 'd', 'e', 'f']);
    assert.deepEqual([...recent.exclusions(2)], ['f']);
    assert.deepEqual([...recent.exclusions(1)], []);
  });
});
