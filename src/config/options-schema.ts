import { z } from 'zod';
import { validate as isValidCron } from 'node-cron';
import { quietHoursSchema } from './rules-schema.js';

/**
 * The schema of `data/options.yml`. Keys are upstream ImageServer's, spelled as upstream
 * spells them (`image_weight` is upstream's word for width), so an upstream file keeps working.
 * Defaults live here and only here.
 */

const wholeNumber = (min: number, max: number) =>
  z
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int({ error: `expected a whole number from ${min} to ${max}` })
    .min(min, { error: `expected a whole number from ${min} to ${max}` })
    .max(max, { error: `expected a whole number from ${min} to ${max}` });

const cronExpression = z
  .string({ error: 'expected a cron expression in quotes, like "* * * * *"' })
  .refine((value) => isValidCron(value), {
    error: 'expected a valid cron expression (minute hour day month weekday, optionally seconds first)',
  });

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const;
export const FIT_MODES = ['auto', 'cover', 'contain', 'stretch'] as const;

const frameParameters = z.object({
  image_weight: wholeNumber(16, 4096).optional(),
  /** Accepted as the correctly spelled twin of upstream's `image_weight`. */
  image_width: wholeNumber(16, 4096).optional(),
  image_height: wholeNumber(16, 4096).optional(),
  fit_threshold: z
    .number({ error: 'expected a number from 0 to 1, like 0.03' })
    .min(0, { error: 'expected a number from 0 to 1, like 0.03' })
    .max(1, { error: 'expected a number from 0 to 1, like 0.03' })
    .optional(),
  fit_mode: z.enum(FIT_MODES, { error: `expected one of ${FIT_MODES.join(', ')}` }).optional(),
  jpeg_quality: wholeNumber(30, 100).optional(),
});

/** A provider's section is validated by that provider's own factory; here it only has to be a mapping. */
const providerSection = z.record(z.string(), z.unknown(), {
  error: 'expected a mapping of provider options',
});

export const optionsSchema = z.object({
  log_level: z
    .string({ error: `expected one of ${LOG_LEVELS.join(', ')}` })
    .transform((value) => value.toUpperCase())
    .pipe(z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }))
    .default('INFO'),
  image_path: z.string({ error: 'expected a folder path' }).min(1, { error: 'expected a folder path' }).optional(),
  image_amount_min: wholeNumber(1, 1_000_000).default(1000),
  image_amount_max: wholeNumber(2, 1_000_000).default(2000),
  image_generate_threshold: wholeNumber(0, 525_600).default(10),
  check_pending_cron: cronExpression.default('* * * * *'),
  scan_image_cron: cronExpression.default('0 0 * * *'),
  iframe_image_parameters: frameParameters.default({}),
  // Upstream's older flat keys, still honoured when the nested block does not set them.
  image_weight: wholeNumber(16, 4096).optional(),
  image_width: wholeNumber(16, 4096).optional(),
  image_height: wholeNumber(16, 4096).optional(),
  prompts_amount: wholeNumber(1, 1000).default(10),
  providers: z
    .record(z.string(), providerSection.nullable(), { error: 'expected a mapping of provider ids to their options' })
    .default({}),
  disabled_providers: z
    .array(z.string({ error: 'expected a list of provider ids' }), { error: 'expected a list of provider ids' })
    .default([]),
  /** Quiet hours: `auto` serves a stored picture (or a black frame) and calls no provider. */
  sleep_time: quietHoursSchema,
  /** Optional HTTPS listener beside plain HTTP (upstream 1.03 firmware speaks HTTPS). */
  tls: z
    .object(
      {
        cert: z.string({ error: 'expected the path of a PEM certificate file' }).min(1, { error: 'expected the path of a PEM certificate file' }),
        key: z.string({ error: 'expected the path of a PEM private key file' }).min(1, { error: 'expected the path of a PEM private key file' }),
        port: wholeNumber(0, 65535).default(8443),
      },
      { error: 'expected cert, key and optionally port' },
    )
    .optional(),
  /** How long a generation may run before it is abandoned and the frame gets a stored picture. */
  generation_timeout_minutes: wholeNumber(1, 24 * 60).default(15),
});

export type RawOptions = z.infer<typeof optionsSchema>;

/** Every key the schema knows, nested ones as dotted paths, for the unknown-key warning. */
export const KNOWN_KEYS: ReadonlySet<string> = new Set([
  ...Object.keys(optionsSchema.shape),
  ...Object.keys(frameParameters.shape).map((key) => `iframe_image_parameters.${key}`),
]);
