import { RemoteError } from './remote-error.js';

/**
 * Whether a failed request reached the server, as far as the client can know:
 * - `not-sent`: it failed before a connection was made (refused, no such host, no route, the
 *   system's connect timeout, a certificate refused in the handshake): the server saw nothing.
 * - `may-have-arrived`: a connection was made and then dropped, reset or timed out: the body
 *   may have been read and a job started, whose answer is lost.
 * - `answered`: the server answered (any status, or a body that could not be read as one).
 */
export type Delivery = 'not-sent' | 'may-have-arrived' | 'answered';

/** Codes of failures that happen before a connection exists. */
const BEFORE_CONNECTION = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
  // TLS refused the server before the first byte of the request was written.
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * System calls that fail before a connection exists: a name lookup, or the connect itself
 * (ETIMEDOUT there is the system giving up on the handshake; on a read it is not).
 */
const BEFORE_CONNECTION_CALLS = new Set(['getaddrinfo', 'connect']);

/** Where the request of a failed call got to; see {@link Delivery}. */
export function deliveryOf(error: unknown): Delivery {
  if (!(error instanceof RemoteError)) return 'answered';
  if (error.failure === 'http' || error.failure === 'invalid-response') return 'answered';
  // Our own timeout does not tell whether the socket had connected: it may have arrived.
  if (error.failure === 'timeout') return 'may-have-arrived';
  const cause = error.cause as { code?: unknown; syscall?: unknown } | undefined;
  if (typeof cause?.code === 'string' && BEFORE_CONNECTION.has(cause.code)) return 'not-sent';
  if (typeof cause?.syscall === 'string' && BEFORE_CONNECTION_CALLS.has(cause.syscall)) return 'not-sent';
  return 'may-have-arrived';
}

/** The same failure, final: the request may have started a job and is not sent again, for `reason`. */
export function notSentAgain(error: RemoteError, reason: string): RemoteError {
  return new RemoteError(`${error.message}; not sent again: ${reason}`, {
    failure: error.failure,
    url: error.url,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.excerpt === undefined ? {} : { excerpt: error.excerpt }),
    retryable: false,
    cause: error.cause,
  });
}
