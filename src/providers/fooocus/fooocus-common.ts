/**
 * What Fooocus-API and FooocusAPI share: the X-API-KEY check, FastAPI's error bodies, result
 * pictures given as URLs on the server, and the saved job id that lets a restart go on polling.
 * Facts: ../shared/provider-apis.md §3.
 */
import { z } from 'zod';
import { imageFromBytes } from '../http/image-payload.js';
import { fastApiDetailReason } from '../http/fastapi-detail.js';
import type { RemoteError } from '../http/remote-error.js';
import { httpStatusError, type RemoteHttp, type RemoteResponse } from '../http/remote-http.js';
import { withRetries, type RetryPolicy } from '../http/retry.js';
import type { PictureFormat } from '../../library/picture.js';

/** `performance_selection` values (Fooocus `modules/flags.py Performance`); anything else is a 422. */
export const PERFORMANCE_SELECTIONS = ['Speed', 'Quality', 'Extreme Speed', 'Lightning', 'Hyper-SD'] as const;

/**
 * A RemoteError for a non-2xx answer, worded for the person editing options.yml: a 403 is
 * about the API key (never shown), a 422 names the field FastAPI refused.
 */
export function fooocusHttpError(response: RemoteResponse, providerId: string, hasApiKey: boolean): RemoteError {
  if (response.status === 401 || response.status === 403) {
    return httpStatusError(
      response,
      hasApiKey
        ? `: the server refused the API key; check providers.${providerId}.api_key`
        : `: the server wants an API key (it runs with --apikey); set providers.${providerId}.api_key`,
    );
  }
  return httpStatusError(response, fastApiDetailReason(response));
}

/**
 * Where to fetch a result picture. The server writes its own idea of its address into result
 * URLs (`http://0.0.0.0:8888/files/...` when it listens on all interfaces, a container's name
 * behind Docker), which the frame server often cannot reach; the path after `marker`
 * (`/files/` or `/outputs/`) is taken relative to the configured base URL instead. Other URLs
 * (a CDN, a share) are fetched as given.
 */
export function resultLocation(url: string, marker: string): string {
  let path = url;
  if (/^https?:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      path = `${parsed.pathname}${parsed.search}`;
    } catch {
      return url;
    }
  }
  const at = path.indexOf(marker);
  if (at >= 0) return path.slice(at);
  return url;
}

/** Fetches a result picture (GET: safe to repeat) and checks it is one the library keeps. */
export async function fetchResultPicture(
  http: RemoteHttp,
  location: string,
  signal: AbortSignal,
  retry: Omit<RetryPolicy, 'signal'>,
): Promise<{ bytes: Buffer; format: PictureFormat }> {
  const response = await withRetries(() => http.fetchBytes({ path: location, signal, headers: { Accept: 'image/*' } }), { ...retry, signal });
  return imageFromBytes(response.body, 'result picture');
}

const savedJobSchema = z.object({ provider: z.string(), job: z.string().min(1) });

/** The job id an earlier run of this same generation saved, if it was ours. */
export function savedJobId(state: unknown, providerType: string): string | undefined {
  const parsed = savedJobSchema.safeParse(state);
  return parsed.success && parsed.data.provider === providerType ? parsed.data.job : undefined;
}

export function savedJobState(providerType: string, job: string): { provider: string; job: string } {
  return { provider: providerType, job };
}

/** Fooocus sends seeds as strings ("1234567890"); a number when it parses, else nothing. */
export function parseSeed(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) {
    const seed = Number(value.trim());
    return Number.isSafeInteger(seed) ? seed : undefined;
  }
  return undefined;
}
