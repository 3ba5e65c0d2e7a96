import { join } from 'node:path';
import { z } from 'zod';
import { baseUrlSchema, remoteSectionSchema, secondsSchema } from '../http/remote-options.js';
import { parseSection, type ProviderContext } from '../registry.js';
import { CredentialSource } from './credentials.js';
import { DEFAULT_NEGATIVE_PREFIX } from './prompt-text.js';
import { DEFAULT_BASE_URL, YANDEX_ART_ID, YandexArtProvider } from './yandex-art-provider.js';

/** Upstream ImageServer's file for the YandexART folder id and API key, in the data folder. */
export const CREDENTIALS_FILE = 'ydart-options.json';

/** `providers.ydArt` in options.yml. The credentials are not here: they live in their own file. */
const yandexArtSchema = remoteSectionSchema({
  base_url: baseUrlSchema.default(DEFAULT_BASE_URL),
  /** 0: poll only when the check_pending cron runs (upstream's way). */
  poll_interval_seconds: secondsSchema(10, 0),
  request_timeout_seconds: secondsSchema(30, 0.05),
  max_wait_minutes: z
    .number({ error: 'expected a number of minutes' })
    .positive({ error: 'expected a number of minutes' })
    // Yandex keeps results for 3 days; waiting longer cannot succeed.
    .max(3 * 24 * 60, { error: 'expected at most 4320 minutes (Yandex keeps results 3 days)' })
    .default(60)
    .transform((minutes) => Math.round(minutes * 60_000)),
  negative_prompt_prefix: z.string({ error: 'expected the text put between the prompt and the negative prompt' }).default(DEFAULT_NEGATIVE_PREFIX),
  max_attempts: z
    .number({ error: 'expected a whole number from 1 to 10' })
    .int({ error: 'expected a whole number from 1 to 10' })
    .min(1, { error: 'expected a whole number from 1 to 10' })
    .max(10, { error: 'expected a whole number from 1 to 10' })
    .default(4),
  retry_base_seconds: secondsSchema(2, 0),
});

export type YandexArtSection = z.output<typeof yandexArtSchema>;

/** The factory behind `providers.ydArt`. */
export function createYandexArtProvider(section: Readonly<Record<string, unknown>>, context: ProviderContext): YandexArtProvider {
  const options = parseSection(yandexArtSchema, section, YANDEX_ART_ID, context.config.optionsFile);
  return new YandexArtProvider({
    id: YANDEX_ART_ID,
    baseUrl: options.base_url,
    credentials: new CredentialSource({ file: join(context.config.paths.dataDir, CREDENTIALS_FILE), environment: context.environment }),
    secrets: context.secrets,
    logger: context.logger,
    pollIntervalMs: options.poll_interval_seconds,
    requestTimeoutMs: options.request_timeout_seconds,
    maxWaitMs: options.max_wait_minutes,
    negativePrefix: options.negative_prompt_prefix,
    maxAttempts: options.max_attempts,
    retryBaseMs: options.retry_base_seconds,
  });
}
