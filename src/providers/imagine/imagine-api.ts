/**
 * The Imagine server's API (architector1324/imagine, `imagine serve`), only the fields this
 * adapter needs. Facts: ../shared/provider-apis.md §4.
 */
import { z } from 'zod';
import { bodyExcerpt, type RemoteError } from '../http/remote-error.js';
import { httpStatusError, type RemoteResponse } from '../http/remote-http.js';

export const GENERATE_PATH = '/generate';
export const MODELS_PATH = '/models';

/** The samplers the server knows (`SAMPLERS` in imagine_server.py), lower case. */
export const IMAGINE_SAMPLERS = ['ddim', 'euler', 'euler a', 'heun', 'lms', 'dpm++ 2m', 'dpm++ 2s', 'dpm++ sde', 'dpm2', 'dpm2 a'] as const;

/**
 * The non-stream answer. `status` is absent on the early Flask servers, and `seed` was a
 * number there; now it is a string, since seeds go up to 2^64 − 1.
 */
export const generateAnswerSchema = z.object({
  img: z.string({ error: 'the answer holds no image' }),
  seed: z.union([z.string(), z.number()]).optional(),
  status: z.string().optional(),
});

export const modelsAnswerSchema = z.object({ models: z.array(z.string()) });

/**
 * The seed as a number when a number holds it exactly. Seeds the server picks itself can
 * exceed 2^53; those are kept as text in the details instead of being recorded wrongly.
 */
export function exactSeed(seed: string | number | undefined): number | undefined {
  if (seed === undefined) return undefined;
  const value = typeof seed === 'number' ? seed : /^\d+$/.test(seed) ? Number(seed) : Number.NaN;
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * The server answers errors with Python's default HTML error page (`send_error`), the reason
 * in "Message: …" and a JSON string in "Error code explanation: N - {…}". The reason (and
 * the JSON's `details`, which carries the exception of a 500) becomes the error's message;
 * any other body (a proxy's page) falls back to its text.
 */
export function imagineError(response: RemoteResponse): RemoteError {
  const reason = describePythonErrorPage(response.body);
  return httpStatusError(response, reason === undefined ? undefined : `: ${reason}`);
}

function describePythonErrorPage(body: Buffer): string | undefined {
  const text = bodyExcerpt(body, 4000);
  const match = /Message: (.*?)\.? Error code explanation: \d+ - (.*?)\.?$/.exec(text);
  if (!match) return undefined;
  const message = match[1] ?? '';
  const details = jsonField(match[2] ?? '', 'details');
  return details === undefined || details === '' ? message : `${message} (${details})`;
}

function jsonField(text: string, key: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    const value = (parsed as Record<string, unknown> | null)?.[key];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
