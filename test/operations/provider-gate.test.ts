import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerationLedger } from '../../src/operations/generation-ledger.js';
import { ProviderGate, type ProviderRules } from '../../src/operations/provider-gate.js';
import { inRange, parseTimeOfDay, rangeEnd } from '../../src/operations/time-range.js';
import { ManualClock } from '../../src/util/clock.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { FixedBytesProvider } from '../support/test-providers.js';

const roots: string[] = [];
after(async () => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

async function setup(rules: ProviderRules, at = new Date(2026, 0, 15, 12, 0, 0)) {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-gate-'));
  roots.push(root);
  const clock = new ManualClock(at);
  const ledger = new GenerationLedger({ file: join(root, 'stats.json'), clock, logger: createMemoryLogger() });
  await ledger.open();
  const provider = new FixedBytesProvider('paid', new Uint8Array());
  const gate = new ProviderGate({ rules: new Map([['paid', rules]]), ledger, clock });
  return { root, clock, ledger, provider, gate };
}

const range = (start: string, end: string) => ({ start: parseTimeOfDay(start) ?? -1, end: parseTimeOfDay(end) ?? -1 });

describe('time ranges', () => {
  test('HH:MM and HH:MM:SS, bounds inclusive, ranges across midnight', () => {
    assert.equal(parseTimeOfDay('07:30'), 7 * 3600 + 30 * 60);
    assert.equal(parseTimeOfDay('23:59:59'), 86399);
    assert.equal(parseTimeOfDay('24:00'), undefined);
    assert.equal(parseTimeOfDay('7h'), undefined);
    const night = range('22:00', '07:00');
    assert.equal(inRange(night, new Date(2026, 0, 15, 22, 0, 0)), true, 'start is inside');
    assert.equal(inRange(night, new Date(2026, 0, 15, 23, 59, 59)), true);
    assert.equal(inRange(night, new Date(2026, 0, 16, 0, 0, 0)), true, 'midnight');
    assert.equal(inRange(night, new Date(2026, 0, 16, 7, 0, 0)), true, 'end is inside');
    assert.equal(inRange(night, new Date(2026, 0, 16, 7, 0, 1)), false);
    assert.equal(inRange(night, new Date(2026, 0, 15, 21, 59, 59)), false);
    const lunch = range('12:00:00', '13:00:00');
    assert.equal(inRange(lunch, new Date(2026, 0, 15, 12, 30)), true);
    assert.equal(inRange(lunch, new Date(2026, 0, 15, 13, 0, 1)), false);
    assert.deepEqual(rangeEnd(night, new Date(2026, 0, 15, 23, 0)), new Date(2026, 0, 16, 7, 0, 1));
  });
});

describe('provider gate: each rule in turn', () => {
  test('ready with no rules', async () => {
    const { gate, provider } = await setup({ sleep: [] });
    assert.equal(gate.status(provider).ready, true);
  });

  test('its own readiness', async () => {
    const { gate, provider } = await setup({ sleep: [] });
    provider.ready = false;
    assert.deepEqual([gate.status(provider).ready, gate.status(provider).reason], [false, 'switched off by the test']);
  });

  test('sleep hours, across midnight', async () => {
    const { gate, provider, clock } = await setup({ sleep: [range('23:00', '06:00')] }, new Date(2026, 0, 15, 23, 30));
    const status = gate.status(provider);
    assert.equal(status.ready, false);
    assert.match(status.reason ?? '', /sleep hours 23:00-06:00/);
    assert.deepEqual(status.nextAllowedAt, new Date(2026, 0, 16, 6, 0, 1));
    clock.set(new Date(2026, 0, 16, 6, 0, 1));
    assert.equal(gate.status(provider).ready, true);
  });

  test('per-provider threshold', async () => {
    const { gate, provider, ledger, clock } = await setup({ sleep: [], thresholdMinutes: 30 });
    await ledger.recordCall('paid');
    assert.equal(gate.status(provider).ready, false);
    clock.advance(29 * 60_000);
    assert.equal(gate.status(provider).ready, false);
    clock.advance(60_000);
    assert.equal(gate.status(provider).ready, true);
  });

  test('daily limit, reset at local midnight, counted across a restart', async () => {
    const { gate, provider, ledger, clock, root } = await setup({ sleep: [], dailyLimit: 2 }, new Date(2026, 0, 15, 20, 0));
    await ledger.recordCall('paid');
    assert.equal(gate.status(provider).ready, true);
    await ledger.recordCall('paid');
    assert.match(gate.status(provider).reason ?? '', /daily limit of 2 reached/);

    const reopened = new GenerationLedger({ file: join(root, 'stats.json'), clock, logger: createMemoryLogger() });
    await reopened.open();
    const afterRestart = new ProviderGate({ rules: new Map([['paid', { sleep: [], dailyLimit: 2 }]]), ledger: reopened, clock });
    assert.equal(afterRestart.status(provider).ready, false, 'the count survives a restart');
    assert.equal(reopened.day('paid').calls, 2);

    clock.set(new Date(2026, 0, 16, 0, 0, 1));
    assert.equal(afterRestart.status(provider).ready, true, 'a new local day');
    assert.equal(reopened.day('paid', 1).calls, 2, 'yesterday');
  });
});
