/** What the Fooocus-API and FooocusAPI adapter tests share. */
import assert from 'node:assert/strict';
import { FOOOCUS_ASPECT_RATIOS } from '../../src/providers/fooocus/aspect-ratios.js';
import type { FooocusProviderOptions } from '../../src/providers/fooocus/fooocus-job-provider.js';
import type { ImageProvider, ProviderError } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { parseJson, type RecordedRequest } from './fake-http-kit.js';
import { FAST_RETRY, generateRequest } from './generate-request.js';

/** A Fooocus fake as the shared checks see it. */
export interface FooocusFake<Mode extends string> {
  mode: Mode | 'ok';
  readonly requests: RecordedRequest[];
  submissions(): RecordedRequest[];
}

/** Provider options for a test: quick polls and retries, no health timer. */
export function fooocusTestOptions(baseUrl: string): FooocusProviderOptions {
  return {
    baseUrl,
    performance: 'Speed',
    aspectRatios: FOOOCUS_ASPECT_RATIOS,
    negativePrompt: '',
    seedMode: 'request',
    timeoutMs: 5000,
    pollIntervalMs: 5,
    healthIntervalMs: 0,
    logger: createMemoryLogger(),
    retry: FAST_RETRY,
  };
}

/** The JSON body of a job the fake was sent (the first by default). */
export function submittedBody(fake: FooocusFake<string>, index = 0): Record<string, unknown> {
  return parseJson((fake.submissions()[index] as { body: Buffer }).body) as Record<string, unknown>;
}

/**
 * Each fake mode makes a generation fail for good: not retryable, with a message that matches,
 * after the job was submitted once. Leaves the fake answering 'ok'.
 */
export async function assertFinalInEachMode<Mode extends string>(fake: FooocusFake<Mode>, provider: () => ImageProvider, cases: readonly (readonly [Mode, RegExp])[]): Promise<void> {
  for (const [mode, pattern] of cases) {
    fake.mode = mode;
    fake.requests.length = 0;
    await assert.rejects(provider().generate(generateRequest()), (error: ProviderError) => !error.retryable && pattern.test(error.message), mode);
    assert.equal(fake.submissions().length, 1, `${mode}: not sent again`);
  }
  fake.mode = 'ok';
}
