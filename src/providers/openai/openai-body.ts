/**
 * The JSON body of POST /v1/images/generations for each flavor of the API. They share the
 * path and the answer's shape, not the fields: OpenAI takes a `size` from a per-model list,
 * LocalAI reads the negative prompt after a `|` and its steps as `step`, and the Qwen-Image
 * service ignores the OpenAI fields and reads `width`/`height`/`seed` (its seed defaults to a
 * fixed 42, so one is always sent). Facts: ../shared/provider-apis.md §5.
 */
import { sizeForFrame } from '../remote-size.js';
import { freeGptImageSize, listedSizes, modelFamily, nearestListedSize, parseSize, promptLimit, type ModelFamily } from './openai-sizes.js';

export type OpenAiFlavor = 'openai' | 'localai' | 'qwen';

export interface BodyOptions {
  readonly flavor: OpenAiFlavor;
  readonly model?: string;
  /** An exact `WxH`, or the side of a square with the wanted pixel count. */
  readonly size?: string | number;
  readonly negativePrompt: string;
  readonly seedMode: 'request' | 'random';
  readonly steps?: number;
  readonly trueCfgScale?: number;
  readonly quality?: string;
  readonly style?: string;
  readonly outputFormat?: string;
  readonly background?: string;
  readonly moderation?: string;
  readonly responseFormat: 'b64_json' | 'url';
}

export interface BodyRequest {
  readonly prompt: string;
  readonly negative?: string;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
}

export interface PlannedBody {
  readonly body: Record<string, unknown>;
  /** The size asked for, as `WxH`. */
  readonly size: string;
  /** The prompt sent, when it had to be cut to the model's limit. */
  readonly cutPrompt?: string;
  readonly family: ModelFamily;
  readonly seed?: number;
}

/** Square sides used when `size` is not set: SD 1.5's shape for LocalAI, Qwen-Image's 1 MP. */
const DEFAULT_SIDE: Readonly<Record<OpenAiFlavor, number>> = { openai: 1024, localai: 640, qwen: 1024 };

export function planBody(request: BodyRequest, options: BodyOptions): PlannedBody {
  const family = options.flavor === 'openai' && options.model !== undefined ? modelFamily(options.model) : 'other';
  const size = chooseSize(request, options, family);
  switch (options.flavor) {
    case 'openai':
      return openAiBody(request, options, family, size);
    case 'localai':
      return localAiBody(request, options, size);
    case 'qwen':
      return qwenBody(request, options, size);
  }
}

function chooseSize(request: BodyRequest, options: BodyOptions, family: ModelFamily): { width: number; height: number; text: string } {
  if (typeof options.size === 'string') {
    const exact = parseSize(options.size);
    if (exact) return { ...exact, text: `${exact.width}x${exact.height}` };
  }
  const listed = listedSizes(family);
  if (listed) {
    const text = nearestListedSize(request.width, request.height, listed);
    return { ...(parseSize(text) as { width: number; height: number }), text };
  }
  const side = typeof options.size === 'number' ? options.size : DEFAULT_SIDE[options.flavor];
  // Qwen-Image and gpt-image-2 work in steps of 16 (latent 8 × patch 2); SD-family servers in 64.
  const size =
    family === 'gpt-image-free'
      ? freeGptImageSize(request.width, request.height, side * side)
      : sizeForFrame(request.width, request.height, side * side, options.flavor === 'qwen' ? 16 : 64);
  return { ...size, text: `${size.width}x${size.height}` };
}

function openAiBody(request: BodyRequest, options: BodyOptions, family: ModelFamily, size: { text: string }): PlannedBody {
  const limit = promptLimit(family);
  const cut = limit !== undefined && request.prompt.length > limit ? request.prompt.slice(0, limit) : undefined;
  const dallE = family === 'dall-e-2' || family === 'dall-e-3';
  const gptImage = family === 'gpt-image' || family === 'gpt-image-free';
  const body: Record<string, unknown> = {
    ...(options.model === undefined ? {} : { model: options.model }),
    prompt: cut ?? request.prompt,
    n: 1,
    size: size.text,
    // GPT image models always answer b64_json and do not take the field.
    ...(gptImage ? {} : { response_format: options.responseFormat }),
    ...(options.quality === undefined ? {} : { quality: options.quality }),
    ...(options.style === undefined || family !== 'dall-e-3' ? {} : { style: options.style }),
    ...(options.outputFormat === undefined || dallE ? {} : { output_format: options.outputFormat }),
    ...(options.background === undefined || dallE ? {} : { background: options.background }),
    ...(options.moderation === undefined || dallE ? {} : { moderation: options.moderation }),
  };
  return { body, size: size.text, family, ...(cut === undefined ? {} : { cutPrompt: cut }) };
}

function localAiBody(request: BodyRequest, options: BodyOptions, size: { text: string }): PlannedBody {
  // LocalAI splits the prompt at every `|`: one inside the text would turn the rest negative.
  const positive = request.prompt.replaceAll('|', ' ');
  const negative = (request.negative ?? options.negativePrompt).replaceAll('|', ' ');
  const seed = options.seedMode === 'random' ? undefined : request.seed;
  const body: Record<string, unknown> = {
    ...(options.model === undefined ? {} : { model: options.model }),
    prompt: negative.trim() === '' ? positive : `${positive}|${negative}`,
    n: 1,
    size: size.text,
    response_format: options.responseFormat,
    ...(options.steps === undefined ? {} : { step: options.steps }),
    ...(seed === undefined ? {} : { seed }),
  };
  return { body, size: size.text, family: 'other', ...(seed === undefined ? {} : { seed }) };
}

function qwenBody(request: BodyRequest, options: BodyOptions, size: { width: number; height: number; text: string }): PlannedBody {
  const body: Record<string, unknown> = {
    prompt: request.prompt,
    negative_prompt: request.negative ?? options.negativePrompt,
    width: size.width,
    height: size.height,
    ...(options.steps === undefined ? {} : { num_inference_steps: options.steps }),
    ...(options.trueCfgScale === undefined ? {} : { true_cfg_scale: options.trueCfgScale }),
    // Always: the service's default seed is a fixed 42, so every picture of a prompt would match.
    seed: request.seed,
  };
  return { body, size: size.text, family: 'other', seed: request.seed };
}
