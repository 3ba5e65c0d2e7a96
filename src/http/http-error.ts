/**
 * An error with an HTTP status and the upstream error body's fields
 * (`{"error":{"code","message","dev_message"}}`). 4xx messages reach the client; for 5xx the
 * client gets a generic message and the details go only to the log.
 */
export class HttpError extends Error {
  /** Already logged once for the same cause: the error middleware answers without a log line. */
  readonly quiet: boolean;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly devMessage = '',
    options: { readonly quiet?: boolean } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.quiet = options.quiet ?? false;
  }

  get expose(): boolean {
    return this.status < 500;
  }
}

/** Upstream ImageServer's code for client mistakes. */
export const badRequest = (message: string, devMessage = ''): HttpError => new HttpError(400, 'BadRequest', message, devMessage);

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly dev_message: string };
}

export function errorBody(code: string, message: string, devMessage: string): ErrorBody {
  return { error: { code, message, dev_message: devMessage } };
}
