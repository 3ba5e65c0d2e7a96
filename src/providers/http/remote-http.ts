import axios, { type AxiosResponse } from 'axios';
import { bodyExcerpt, redactUrl, RemoteError } from './remote-error.js';

export interface RemoteHttpOptions {
  /** The generator's base URL, e.g. `http://gpu-box:7860`. A path in it is kept (a proxy prefix). */
  readonly baseUrl: string;
  /** Sent with every request (an API key header, say). Values never reach an error message. */
  readonly headers?: Readonly<Record<string, string>>;
  /** HTTP Basic credentials (AUTOMATIC1111's --api-auth). */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** The whole request, body included, must finish within this (default 60 s). */
  readonly timeoutMs?: number;
  /** Larger bodies are refused (default 64 MB: a few large PNGs in base64). */
  readonly maxBodyBytes?: number;
}

export interface RemoteRequest {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to the base URL (`/sdapi/v1/txt2img`), or an absolute URL (a result URL). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Sent as JSON. */
  readonly json?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Aborts the request (shutdown, cancellation); the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

export interface RemoteResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly url: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_BODY = 64 * 1024 * 1024;

/**
 * The one HTTP layer every remote provider uses: whole-request timeouts, abortable waits, and
 * failures turned into {@link RemoteError}s that carry the status, the redacted URL and a
 * short readable body excerpt — never a credential. Retrying is the caller's choice
 * (see `withRetries`): only the caller knows whether a request is safe to send twice.
 */
export class RemoteHttp {
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(private readonly options: RemoteHttpOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** The absolute URL of `path` (kept relative to a base URL that has a path of its own). */
  urlFor(path: string, query?: RemoteRequest['query']): string {
    const url = /^https?:\/\//i.test(path) ? new URL(path) : new URL(path.replace(/^\//, ''), withTrailingSlash(this.options.baseUrl));
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /** Sends the request; any answer (2xx or not) resolves. Network failures and timeouts reject. */
  async send(request: RemoteRequest): Promise<RemoteResponse> {
    const url = this.urlFor(request.path, request.query);
    const shownUrl = redactUrl(url);
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = request.signal === undefined ? timeout : AbortSignal.any([request.signal, timeout]);
    let response: AxiosResponse<ArrayBuffer>;
    try {
      response = await axios.request<ArrayBuffer>({
        url,
        method: request.method ?? (request.json === undefined ? 'GET' : 'POST'),
        headers: {
          Accept: 'application/json, image/*;q=0.9, */*;q=0.5',
          ...(request.json === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...this.options.headers,
          ...request.headers,
        },
        ...(this.options.basicAuth === undefined ? {} : { auth: this.options.basicAuth }),
        data: request.json === undefined ? undefined : JSON.stringify(request.json),
        responseType: 'arraybuffer',
        // Every status resolves: the caller reads error bodies (they carry the reason).
        validateStatus: () => true,
        maxContentLength: this.maxBodyBytes,
        maxBodyLength: this.maxBodyBytes,
        maxRedirects: 5,
        // follow-redirects drops Authorization when a redirect leaves the host, not an API-key
        // header such as X-API-KEY: those stay with the configured server too.
        beforeRedirect: (options) => dropHeadersOffOrigin(options, new URL(url).origin, Object.keys(this.options.headers ?? {})),
        signal,
        // axios would otherwise pick up HTTP(S)_PROXY itself; a user who needs a proxy sets base_url.
        proxy: false,
      });
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      if (timeout.aborted) {
        throw new RemoteError(`no answer from ${shownUrl} within ${formatDuration(timeoutMs)}`, { failure: 'timeout', url: shownUrl, cause: describeCause(error) });
      }
      const code = (error as { code?: string }).code;
      const reason = code === 'ERR_BAD_RESPONSE' || code === 'ERR_FR_MAX_CONTENT_LENGTH_EXCEEDED' ? 'answer too large or malformed' : (code ?? (error as Error).message);
      throw new RemoteError(`cannot reach ${shownUrl}: ${reason}`, { failure: 'network', url: shownUrl, cause: describeCause(error) });
    }
    return {
      status: response.status,
      headers: flattenHeaders(response.headers as Record<string, unknown>),
      body: Buffer.from(response.data),
      url: shownUrl,
    };
  }

  /** Sends the request and returns the body of a 2xx answer; any other status is a {@link RemoteError}. */
  async fetchBytes(request: RemoteRequest): Promise<RemoteResponse> {
    const response = await this.send(request);
    if (response.status < 200 || response.status >= 300) throw httpStatusError(response);
    return response;
  }

  /** Like {@link fetchBytes}, parsing the body as JSON (an unparsable body is an invalid response). */
  async fetchJson<T = unknown>(request: RemoteRequest): Promise<T> {
    return parseJsonBody<T>(await this.fetchBytes(request));
  }
}

/** A RemoteError for a non-2xx answer, with the body's start as the reason. */
export function httpStatusError(response: RemoteResponse, reason?: string): RemoteError {
  const excerpt = bodyExcerpt(response.body);
  const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
  const because = reason ?? (excerpt === '' ? '' : `: ${excerpt}`);
  return new RemoteError(`${response.url} answered HTTP ${response.status}${because}`, {
    failure: 'http',
    status: response.status,
    url: response.url,
    excerpt,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** Parses a JSON body; anything else is an invalid response naming the URL and the body's start. */
export function parseJsonBody<T = unknown>(response: RemoteResponse): T {
  try {
    return JSON.parse(response.body.toString('utf8')) as T;
  } catch {
    const excerpt = bodyExcerpt(response.body);
    throw new RemoteError(`${response.url} answered something that is not JSON: ${excerpt || '(empty body)'}`, {
      failure: 'invalid-response',
      status: response.status,
      url: response.url,
      excerpt,
    });
  }
}

/** `Retry-After` as milliseconds: either seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function flattenHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && value !== null) out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** On a redirect to another origin, removes the named headers (any case) from the next request. */
function dropHeadersOffOrigin(options: Record<string, unknown>, origin: string, names: readonly string[]): void {
  let next: string;
  try {
    next = new URL(typeof options.href === 'string' ? options.href : `${String(options.protocol)}//${String(options.host)}`).origin;
  } catch {
    next = '';
  }
  const headers = options.headers as Record<string, unknown> | undefined;
  if (next === origin || headers === undefined) return;
  const drop = new Set(names.map((name) => name.toLowerCase()));
  for (const name of Object.keys(headers)) {
    if (drop.has(name.toLowerCase())) delete headers[name];
  }
}

/**
 * axios errors carry the whole request config, headers included (an API key). Only the code
 * and message travel on as the cause, so no log line that prints a cause can leak a key.
 */
function describeCause(error: unknown): Error {
  const code = (error as { code?: string }).code;
  // Node's system error (under axios's) names the call that failed: `connect` and
  // `getaddrinfo` fail before anything was sent (see deliveryOf).
  const syscall = (error as { syscall?: unknown }).syscall ?? (error as { cause?: { syscall?: unknown } }).cause?.syscall;
  const plain = new Error((error as Error).message) as Error & { code?: string; syscall?: string };
  if (code !== undefined) plain.code = code;
  if (typeof syscall === 'string') plain.syscall = syscall;
  return plain;
}
