import { ProviderError } from '../types.js';

/** How a call to a remote generator failed. */
export type RemoteFailure = 'http' | 'timeout' | 'network' | 'invalid-response';

export interface RemoteErrorDetails {
  readonly failure: RemoteFailure;
  /** The HTTP status, when the server answered. */
  readonly status?: number;
  /** The request URL with credentials removed (see {@link redactUrl}). */
  readonly url: string;
  /** The start of the response body, as readable text, for logs and the status page. */
  readonly excerpt?: string;
  /** A `Retry-After` the server sent, in milliseconds. */
  readonly retryAfterMs?: number;
  /** Overrides what the failure implies: false for a request that must not be sent again. */
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

/**
 * A failed call to a remote generator, carrying what a user needs to act on it: the status,
 * the (redacted) URL and a short excerpt of the body. Whether retrying can help follows from
 * the failure: dropped connections, timeouts, 429 and most 5xx are worth another try; other
 * 4xx answers (bad key, bad request, refused prompt) are not. Whether a request that starts a
 * job may be sent again after a dropped connection is the retry's `resend` rule (retry.ts).
 */
export class RemoteError extends ProviderError {
  readonly failure: RemoteFailure;
  readonly status: number | undefined;
  readonly url: string;
  readonly excerpt: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, details: RemoteErrorDetails) {
    super(message, { retryable: details.retryable ?? isRetryableFailure(details.failure, details.status), cause: details.cause });
    this.name = 'RemoteError';
    this.failure = details.failure;
    this.status = details.status;
    this.url = details.url;
    this.excerpt = details.excerpt;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** 401 or 403: the credentials (or the account's rights) are wrong; retrying only spends. */
  get isAuthFailure(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

function isRetryableFailure(failure: RemoteFailure, status: number | undefined): boolean {
  if (failure === 'timeout' || failure === 'network') return true;
  if (failure === 'invalid-response') return false;
  if (status === undefined) return false;
  // 501 Not Implemented will not change on a retry; 408/429/5xx may.
  return status === 408 || status === 429 || (status >= 500 && status !== 501);
}

const SECRET_QUERY_KEYS = /^(key|api[_-]?key|token|access[_-]?token|sig|signature|password)$/i;

/** The URL without user:password and with secret-looking query values masked, for messages. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  parsed.username = '';
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_QUERY_KEYS.test(key)) parsed.searchParams.set(key, '***');
  }
  return parsed.toString();
}

/**
 * The first `max` characters of a response body as one line of text. Several generators
 * (Imagine, proxies in front of any of them) answer errors with HTML pages: tags, scripts
 * and styles are dropped so the message reads like the page's text.
 */
export function bodyExcerpt(body: Uint8Array | string, max = 200): string {
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 64 * 1024)).toString('utf8');
  const looksHtml = /^\s*<(!doctype|html|head|body|title|h1|p|div|pre)\b/i.test(text);
  const plain = looksHtml
    ? text
        .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ')
        .replace(/<[^>]+>/g, ' ')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, '&')
    : text;
  const oneLine = plain.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}
