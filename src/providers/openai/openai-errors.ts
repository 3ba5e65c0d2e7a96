/**
 * OpenAI-style error bodies (`{"error": {message, type, param, code}}`) turned into errors a
 * person can act on, and into the right retry decision: a refused prompt, a bad size or an
 * exhausted quota fails the job at once; a rate limit waits as long as the server asks.
 * Facts: ../shared/provider-apis.md §5.
 */
import { z } from 'zod';
import { fastApiDetailReason } from '../http/fastapi-detail.js';
import { jsonBodyAs } from '../http/parse-answer.js';
import { bodyExcerpt, type RemoteError } from '../http/remote-error.js';
import { httpStatusError, type RemoteResponse } from '../http/remote-http.js';
import { ProviderError } from '../types.js';

const envelopeSchema = z.object({
  error: z.object({
    message: z.string().nullish(),
    type: z.string().nullish(),
    param: z.string().nullish(),
    // LocalAI sends the HTTP status as a number here.
    code: z.union([z.string(), z.number()]).nullish(),
  }),
});

export interface OpenAiErrorBody {
  readonly message?: string;
  readonly type?: string;
  readonly code?: string;
}

export function readErrorBody(response: Pick<RemoteResponse, 'body'>): OpenAiErrorBody | undefined {
  const parsed = jsonBodyAs(envelopeSchema, response.body);
  if (parsed === undefined) return undefined;
  const { message, type, code } = parsed.error;
  return {
    ...(message ? { message: bodyExcerpt(message, 300) } : {}),
    ...(type ? { type } : {}),
    ...(code === undefined || code === null || code === '' ? {} : { code: String(code) }),
  };
}

/** Codes that mean the prompt itself was refused: the same prompt fails again. */
const REFUSED_PROMPT = new Set(['content_policy_violation', 'moderation_blocked']);
/** 429s that are not about speed: the account is out of money, waiting does not help. */
const OUT_OF_QUOTA = new Set(['insufficient_quota', 'billing_hard_limit_reached', 'billing_not_active']);

export interface ErrorContext {
  readonly providerId: string;
  readonly model?: string;
  readonly size: string;
  /** The sizes the model takes, to name in an invalid_size message. */
  readonly validSizes?: readonly string[];
  /** Where the key comes from, for the 401 message. */
  readonly keyHint: string;
}

/**
 * The error for a non-2xx answer. HTTP-level facts (status, URL, Retry-After) stay on a
 * RemoteError wherever the status already decides retrying right; the cases the status gets
 * wrong (a 429 for an empty account) become a final ProviderError carrying it as the cause.
 */
export function openAiError(response: RemoteResponse, context: ErrorContext): RemoteError | ProviderError {
  const body = readErrorBody(response);
  const code = body?.code;
  const detail = body?.message ?? '';
  const tagged = (text: string): string => `${text}${code === undefined ? '' : ` (${code})`}${detail === '' ? '' : `: ${detail}`}`;

  if (response.status === 401) {
    return httpStatusError(response, `: ${tagged(`the API key was refused; check ${context.keyHint}`)}`);
  }
  if (response.status === 403) {
    return httpStatusError(response, `: ${tagged('the key may not use this')}`);
  }
  if ((code !== undefined && REFUSED_PROMPT.has(code)) || body?.type === 'image_generation_user_error') {
    return httpStatusError(response, `: ${tagged('the prompt was refused by the safety system')}`);
  }
  if (code === 'invalid_size') {
    const valid = context.validSizes === undefined ? '' : `; it takes ${context.validSizes.join(', ')}`;
    return httpStatusError(response, `: size ${context.size} is not supported by model ${context.model ?? '(default)'}${valid}${detail === '' ? '' : ` (${detail})`}`);
  }
  if (response.status === 429 && code !== undefined && OUT_OF_QUOTA.has(code)) {
    const error = httpStatusError(response, `: ${tagged('the account has no quota left')}`);
    return new ProviderError(error.message, { retryable: false, cause: error });
  }
  if (body !== undefined) {
    const head = body.type === undefined ? '' : `${body.type}${code === undefined ? '' : ` (${code})`}: `;
    return httpStatusError(response, `: ${head}${detail === '' ? (code ?? 'no message') : detail}`);
  }
  // FastAPI services (the Qwen-Image service) answer {"detail": ...} instead.
  return httpStatusError(response, fastApiDetailReason(response));
}
