/** What a test needs to call a provider directly: a request that records, a registry context, a quick back-off. */
import assert from 'node:assert/strict';
import type { AppConfig } from '../../src/config/app-config.js';
import { SecretRegistry } from '../../src/logging/secret-registry.js';
import type { ProviderContext } from '../../src/providers/registry.js';
import type { GenerateRequest, GenerationProgress } from '../../src/providers/types.js';
import { createMemoryLogger, type LogRecord } from '../../src/util/logger.js';

export interface RecordingRequest extends GenerateRequest {
  /** Every progress report, in order. */
  readonly progress: GenerationProgress[];
  /** Every state saved through the resume slot, in order. */
  readonly saved: unknown[];
}

/**
 * A GenerateRequest that records the progress it gets and the states saved through its resume
 * slot. `saved`: what an earlier run saved (a restart); the slot loads the latest state saved
 * since, or that one.
 */
export function generateRequest(overrides: Partial<GenerateRequest> & { saved?: unknown } = {}): RecordingRequest {
  const progress: GenerationProgress[] = [];
  const saved: unknown[] = [];
  const { saved: earlier, ...rest } = overrides;
  return {
    prompt: 'a lighthouse on a cliff at dawn',
    seed: 424242,
    width: 320,
    height: 480,
    signal: new AbortController().signal,
    onProgress: (update) => progress.push(update),
    resume: {
      load: () => (saved.length > 0 ? saved.at(-1) : earlier),
      save: async (state) => void saved.push(state),
    },
    ...rest,
    progress,
    saved,
  };
}

/** Quick back-off: the behaviour of retrying, without the seconds. */
export const FAST_RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } as const;

/** What a provider factory (`create...Provider(section, context)`) gets, with its logs and secrets at hand. */
export function providerContext(environment: Record<string, string | undefined> = {}): ProviderContext & { logs: LogRecord[]; secrets: SecretRegistry } {
  const logger = createMemoryLogger();
  return {
    config: { optionsFile: '/data/options.yml' } as AppConfig,
    logger,
    secrets: new SecretRegistry(),
    environment,
    logs: logger.records,
  };
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught as Error,
  );
}

/** Waits (polling every 5 ms) until `condition` holds: for what a fake server sees happen in the background. */
export async function eventually(condition: () => boolean, what = 'the condition', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
