/** What the OpenAI and OpenAI-compatible adapter tests share. */
import type { OpenAiFlavor } from '../../src/providers/openai/openai-body.js';
import type { OpenAiProviderOptions } from '../../src/providers/openai/openai-provider.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { FAST_RETRY } from './generate-request.js';

/** Provider options for a test: inline pictures, quick retries, no health timer. */
export function openAiTestOptions(baseUrl: string, flavor: OpenAiFlavor): OpenAiProviderOptions {
  return {
    flavor,
    baseUrl,
    keyHint: `providers.${flavor}.api_key`,
    negativePrompt: '',
    seedMode: 'request',
    responseFormat: 'b64_json',
    timeoutMs: 5000,
    healthIntervalMs: 0,
    logger: createMemoryLogger(),
    retry: FAST_RETRY,
  };
}
