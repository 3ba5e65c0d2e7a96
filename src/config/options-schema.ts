import { z } from 'zod';
import ipaddr from 'ipaddr.js';
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

/**
 * Who may talk to the server at all when `allowed_networks` is not set: the home network's
 * private ranges, loopback and link-local, IPv4 and IPv6 (RFC 1918, RFC 3927, RFC 4193,
 * RFC 4291). A server reachable from the internet by port forwarding still refuses strangers.
 */
export const DEFAULT_ALLOWED_NETWORKS: readonly string[] = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

/** Shortest `admin_token` accepted: a guessable token would guard spending and deleting. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** Printable ASCII without spaces: what travels unchanged in an `Authorization` header. */
const TOKEN_CHARACTERS = /^[\x21-\x7e]+$/;

export const ADMIN_TOKEN_RULE = `expected at least ${MIN_ADMIN_TOKEN_LENGTH} characters: letters, digits and punctuation, no spaces`;

/** Whether `text` is a token the server accepts as `admin_token` (or in AIFRAME_ADMIN_TOKEN). */
export function isAcceptableAdminToken(text: string): boolean {
  return text.length >= MIN_ADMIN_TOKEN_LENGTH && TOKEN_CHARACTERS.test(text);
}

/**
 * A network as `address/prefix` (`192.168.1.0/24`, `fd00::/8`) or one address. IPv4 must be
 * four decimal parts: ipaddr.js would also read `10.1` as 10.0.0.1, which nobody means.
 */
export function isNetworkText(text: string): boolean {
  const [address = '', prefix, ...rest] = text.split('/');
  if (rest.length > 0) return false;
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) return prefix === undefined || ipaddr.IPv4.isValidCIDRFourPartDecimal(text);
  if (address.includes('%') || !ipaddr.IPv6.isValid(address)) return false;
  return prefix === undefined || ipaddr.IPv6.isValidCIDR(text);
}

const networkText = z
  .string({ error: 'expected a network like 192.168.1.0/24 or fd00::/8' })
  .trim()
  .refine(isNetworkText, { error: 'expected a network like 192.168.1.0/24 or fd00::/8, or one address' });

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
  /**
   * The token the web page and the API ask for before spending, deleting or changing
   * anything. Unset: AIFRAME_ADMIN_TOKEN, else one generated into data/admin-token.
   */
  admin_token: z
    .string({ error: ADMIN_TOKEN_RULE })
    .trim()
    .refine(isAcceptableAdminToken, { error: ADMIN_TOKEN_RULE })
    .optional(),
  /** Client addresses that may reach any route; everyone else gets 403. */
  allowed_networks: z
    .array(networkText, { error: 'expected a list of networks like 192.168.1.0/24' })
    .min(1, { error: 'expected at least one network; to allow every address list 0.0.0.0/0 and ::/0' })
    .default([...DEFAULT_ALLOWED_NETWORKS]),
});

export type RawOptions = z.infer<typeof optionsSchema>;

/** Every key the schema knows, nested ones as dotted paths, for the unknown-key warning. */
export const KNOWN_KEYS: ReadonlySet<string> = new Set([
  ...Object.keys(optionsSchema.shape),
  ...Object.keys(frameParameters.shape).map((key) => `iframe_image_parameters.${key}`),
]);
