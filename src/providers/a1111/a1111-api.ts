/**
 * The parts of the AUTOMATIC1111 / Forge web API this adapter reads, with only the fields it
 * needs (see ../shared/provider-apis.md §2). Everything else in the answers is ignored.
 */
import { z } from 'zod';
import { jsonBodyAs } from '../http/parse-answer.js';
import { httpStatusError, type RemoteResponse } from '../http/remote-http.js';
import { RemoteError } from '../http/remote-error.js';

export const TXT2IMG_PATH = '/sdapi/v1/txt2img';
export const PROGRESS_PATH = '/sdapi/v1/progress';
export const INTERRUPT_PATH = '/sdapi/v1/interrupt';
export const MODELS_PATH = '/sdapi/v1/sd-models';
/** The web UI's own progress route (modules/progress.py): not registered with --nowebui. */
export const TASK_PROGRESS_PATH = '/internal/progress';

export const txt2imgAnswerSchema = z.object({
  images: z.array(z.string()).min(1, { error: 'the answer holds no image' }),
  /** A JSON-encoded string (Processed.js()), not an object. */
  info: z.string().optional(),
});

/** What `info` tells about the picture made; the seed is the one actually used (-1 resolved). */
export interface GenerationInfo {
  readonly seed?: number;
  readonly sampler?: string;
  readonly model?: string;
  readonly width?: number;
  readonly height?: number;
}

const infoSchema = z.object({
  seed: z.number().int().optional(),
  all_seeds: z.array(z.number().int()).optional(),
  sampler_name: z.string().optional(),
  sd_model_name: z.string().nullable().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
});

/** Reads the `info` string; a missing or unreadable one only loses the details. */
export function parseGenerationInfo(info: string | undefined): GenerationInfo {
  if (info === undefined) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(info);
  } catch {
    return {};
  }
  const parsed = infoSchema.safeParse(raw);
  if (!parsed.success) return {};
  const { seed, all_seeds: allSeeds, sampler_name: sampler, sd_model_name: model, width, height } = parsed.data;
  const used = seed ?? allSeeds?.[0];
  return {
    ...(used === undefined ? {} : { seed: used }),
    ...(sampler === undefined ? {} : { sampler }),
    ...(model === undefined || model === null ? {} : { model }),
    ...(width === undefined ? {} : { width }),
    ...(height === undefined ? {} : { height }),
  };
}

export const progressSchema = z.object({
  state: z
    .object({
      sampling_step: z.number().optional(),
      sampling_steps: z.number().optional(),
      job_count: z.number().optional(),
    })
    .partial()
    .optional(),
  current_image: z.string().nullable().optional(),
  /** v1.6+: the id of the task now running (our `force_task_id` while ours runs). */
  current_task: z.string().nullable().optional(),
});

export type ProgressAnswer = z.output<typeof progressSchema>;

/** POST /internal/progress `{id_task}`: where that task is (pending_tasks, current_task, finished_tasks). */
export const taskProgressSchema = z.object({
  active: z.boolean(),
  queued: z.boolean(),
  completed: z.boolean(),
});

const errorBodySchema = z.object({
  error: z.string().optional(),
  detail: z.union([z.string(), z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])).optional(), msg: z.string().optional() }))]).optional(),
  errors: z.string().optional(),
});

/**
 * A non-2xx answer as a readable error. The server's own words come first: `detail` of its
 * `{error, detail, body, errors}` envelope (`Sampler not found`), FastAPI's 422 list
 * (`steps: value is not a valid integer`), or the exception (`OutOfMemoryError: CUDA out of
 * memory`). A body that is none of these (a proxy's HTML page) falls back to its excerpt.
 */
export function a1111Error(response: RemoteResponse): RemoteError {
  const reason = describeErrorBody(response.body);
  if (response.status === 401) {
    return httpStatusError(response, `: wrong or missing username/password (${reason ?? 'unauthorised'})`);
  }
  return httpStatusError(response, reason === undefined ? undefined : `: ${reason}`);
}

function describeErrorBody(body: Buffer): string | undefined {
  const parsed = jsonBodyAs(errorBodySchema, body);
  if (parsed === undefined) return undefined;
  const { error, detail, errors } = parsed;
  if (Array.isArray(detail)) {
    const parts = detail.map((item) => `${(item.loc ?? []).filter((part) => part !== 'body').join('.')}: ${item.msg ?? 'invalid'}`);
    return parts.length > 0 ? `invalid request (${parts.join('; ')})` : undefined;
  }
  if (detail !== undefined && detail !== '') return detail;
  if (error !== undefined && error !== 'HTTPException') return errors ? `${error}: ${errors.slice(0, 300)}` : error;
  return errors || undefined;
}
