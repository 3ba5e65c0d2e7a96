import { z } from 'zod';
import { baseUrlSchema, remoteSectionSchema, secondsSchema, seedModeSchema } from '../http/remote-options.js';
import { parseSection, type ProviderContext } from '../registry.js';
import type { OpenAiFlavor } from './openai-body.js';
import { OpenAiProvider } from './openai-provider.js';
import { parseSize } from './openai-sizes.js';

export const OPENAI_BASE_URL = 'https://api.openai.com';
const OPENAI_KEY_VARIABLE = 'OPENAI_API_KEY';
const SIZE_ERROR = 'expected a size like "1024x1536", or a whole number from 64 to 4096 such as 1024';

/** `providers.<id>` for the OpenAI-compatible provider; which keys matter depends on `flavor`. */
const openAiSchema = remoteSectionSchema({
  flavor: z.enum(['openai', 'localai', 'qwen'], { error: 'expected openai, localai or qwen' }).optional(),
  /** Required except for OpenAI itself. A trailing /v1 is accepted and dropped. */
  base_url: baseUrlSchema.optional(),
  /** Sent as `Authorization: Bearer`; for flavor openai, OPENAI_API_KEY in the environment works too. */
  api_key: z.string({ error: 'expected the API key text' }).min(1, { error: 'expected the API key text' }).optional(),
  organization: z.string({ error: 'expected an organization id' }).min(1).optional(),
  project: z.string({ error: 'expected a project id' }).min(1).optional(),
  /** OpenAI: dall-e-2, dall-e-3, gpt-image-1...; LocalAI: one of its model names. The Qwen service ignores it. */
  model: z.string({ error: 'expected a model name' }).min(1).optional(),
  /** "1024x1536" exactly, or the side of a square with the wanted pixel count (640 → 512x768 for 2:3). */
  size: z.union(
    [
      z.string().refine((text) => parseSize(text) !== undefined, { error: SIZE_ERROR }),
      z.number().int({ error: SIZE_ERROR }).min(64, { error: SIZE_ERROR }).max(4096, { error: SIZE_ERROR }),
    ],
    { error: SIZE_ERROR },
  ).optional(),
  /** Used when the frame's request has no negative prompt of its own (LocalAI, Qwen). */
  negative_prompt: z.string({ error: 'expected text' }).default(''),
  /** LocalAI: the frame server's seed, or the server's own pick. The Qwen service always gets one. */
  seed: seedModeSchema,
  /** LocalAI `step`, Qwen `num_inference_steps`. */
  steps: z.number({ error: 'expected a whole number of steps' }).int().min(1).max(200).optional(),
  true_cfg_scale: z.number({ error: 'expected a number such as 4' }).min(0).max(30).optional(),
  quality: z.string({ error: 'expected a quality such as standard, hd, low, medium, high or auto' }).min(1).optional(),
  style: z.enum(['vivid', 'natural'], { error: 'expected vivid or natural' }).optional(),
  output_format: z.enum(['png', 'jpeg', 'webp'], { error: 'expected png, jpeg or webp' }).optional(),
  background: z.enum(['transparent', 'opaque', 'auto'], { error: 'expected transparent, opaque or auto' }).optional(),
  moderation: z.enum(['low', 'auto'], { error: 'expected low or auto' }).optional(),
  /** dall-e and LocalAI: b64_json (the default: one request) or url (fetched afterwards). */
  response_format: z.enum(['b64_json', 'url'], { error: 'expected b64_json or url' }).default('b64_json'),
  /** The readiness check's GET: /v1/models (OpenAI, LocalAI) or /openapi.json (Qwen) by default. */
  health_path: z.string({ error: 'expected a path such as /v1/models' }).startsWith('/', { error: 'expected a path such as /v1/models' }).optional(),
  /** One generation; GPT image models take tens of seconds, local servers minutes. */
  timeout_seconds: z.number({ error: 'expected a number of seconds (at least 1)' }).min(1, { error: 'expected a number of seconds (at least 1)' }).optional(),
  health_interval_seconds: secondsSchema(60, 0),
});

type OpenAiSection = z.output<typeof openAiSchema>;

const DEFAULT_TIMEOUT_SECONDS: Readonly<Record<OpenAiFlavor, number>> = { openai: 180, localai: 600, qwen: 600 };

/** Keys each flavor uses besides the common ones: others are ignored with a warning. */
const FLAVOR_KEYS: Readonly<Record<OpenAiFlavor, readonly (keyof OpenAiSection)[]>> = {
  openai: ['organization', 'project', 'model', 'quality', 'style', 'output_format', 'background', 'moderation', 'response_format'],
  localai: ['model', 'negative_prompt', 'seed', 'steps', 'response_format'],
  qwen: ['negative_prompt', 'steps', 'true_cfg_scale'],
};
const FLAVORED_KEYS = new Set(Object.values(FLAVOR_KEYS).flat());

/**
 * The factory behind `providers.openai`, `providers.localai` and `providers.qwen`: one
 * provider type, its flavor named by `flavor` or, when absent, by the section's id.
 */
export function createOpenAiProvider(section: Readonly<Record<string, unknown>>, context: ProviderContext, id: string, defaultFlavor: OpenAiFlavor): OpenAiProvider {
  const file = context.config.optionsFile;
  const options = parseSection(openAiSchema, section, id, file);
  const flavor = options.flavor ?? defaultFlavor;
  warnUnused(section, flavor, id, context);
  if (flavor !== 'openai' && options.base_url === undefined) {
    // Same wording as a schema error, raised the same way.
    parseSection(z.object({ base_url: baseUrlSchema }), {}, id, file);
  }
  const fromEnvironment = flavor === 'openai' ? nonEmpty(context.environment[OPENAI_KEY_VARIABLE]) : undefined;
  const apiKey = options.api_key ?? fromEnvironment;
  context.secrets.add(apiKey);
  const keyHint = flavor === 'openai' ? `providers.${id}.api_key or the ${OPENAI_KEY_VARIABLE} environment variable` : `providers.${id}.api_key`;
  return new OpenAiProvider({
    id,
    flavor,
    baseUrl: withoutVersion(options.base_url ?? OPENAI_BASE_URL),
    ...(apiKey === undefined || flavor === 'qwen' ? {} : { apiKey }),
    keyHint,
    ...(options.organization === undefined ? {} : { organization: options.organization }),
    ...(options.project === undefined ? {} : { project: options.project }),
    ...(options.model !== undefined ? { model: options.model } : flavor === 'openai' ? { model: 'dall-e-3' } : {}),
    ...(options.size === undefined ? {} : { size: options.size }),
    negativePrompt: options.negative_prompt,
    seedMode: options.seed,
    ...(options.steps === undefined ? {} : { steps: options.steps }),
    ...(options.true_cfg_scale === undefined ? {} : { trueCfgScale: options.true_cfg_scale }),
    ...(options.quality === undefined ? {} : { quality: options.quality }),
    ...(options.style === undefined ? {} : { style: options.style }),
    ...(options.output_format === undefined ? {} : { outputFormat: options.output_format }),
    ...(options.background === undefined ? {} : { background: options.background }),
    ...(options.moderation === undefined ? {} : { moderation: options.moderation }),
    responseFormat: options.response_format,
    ...(options.health_path === undefined ? {} : { healthPath: options.health_path }),
    timeoutMs: Math.round((options.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS[flavor]) * 1000),
    healthIntervalMs: options.health_interval_seconds,
    logger: context.logger,
  });
}

/** Settings the chosen flavor cannot honour: a warning, never a crash. */
function warnUnused(section: Readonly<Record<string, unknown>>, flavor: OpenAiFlavor, id: string, context: ProviderContext): void {
  const used = new Set<string>(FLAVOR_KEYS[flavor]);
  const unused = Object.keys(section).filter((key) => FLAVORED_KEYS.has(key as keyof OpenAiSection) && !used.has(key));
  if (unused.length > 0) {
    context.logger.warn(`${context.config.optionsFile}: providers.${id}: ${unused.join(', ')} ${unused.length === 1 ? 'is' : 'are'} not used by flavor ${flavor}; ignored`);
  }
  if (flavor === 'qwen' && section['api_key'] !== undefined) {
    context.logger.warn(`${context.config.optionsFile}: providers.${id}: the Qwen-Image service has no authentication; api_key is not sent`);
  }
}

/** OpenAI's SDKs take base URLs ending in /v1; the paths here carry it already. */
function withoutVersion(url: string): string {
  return url.replace(/\/v1\/?$/, '');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
