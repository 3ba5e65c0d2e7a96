import { z } from 'zod';
import { jsonBodyAs } from '../http/parse-answer.js';
import { bodyExcerpt, RemoteError } from '../http/remote-error.js';
import { parseRetryAfter, RemoteHttp, type RemoteResponse } from '../http/remote-http.js';
import { ProviderError } from '../types.js';
import type { Credentials } from './credentials.js';

/**
 * The YandexART wire format (`../shared/provider-apis.md` section 1): one POST that starts a
 * paid generation and returns an Operation, and a free GET that polls it. Every error that
 * leaves this file has its text passed through the caller's `scrub`, because the gateway
 * echoes a rejected key in its message ("Unknown api key '...'").
 */

export const GENERATE_PATH = '/foundationModels/v1/imageGenerationAsync';
export const MODEL_URI_SUFFIX = 'yandex-art/latest';
/** The only output format YandexART supports (1.3). */
const MIME_TYPE = 'image/jpeg';

/** Operation ids look like `fbv` + 17 alphanumerics; anything safe in a URL path is accepted. */
const OPERATION_ID = /^[A-Za-z0-9._~-]{1,128}$/;

export interface GenerationInput {
  readonly folderId: string;
  readonly text: string;
  readonly seed: number;
  readonly widthRatio: number;
  readonly heightRatio: number;
}

/**
 * The POST body, in the camelCase of the official REST reference. The gateway also accepts
 * the snake_case that upstream ImageServer sends (proto3 JSON parsing takes both), but the
 * documented spelling is the one that cannot stop working. int64 fields go as strings, as
 * the reference types them (proto3 JSON's canonical form for int64).
 */
export function generationBody(input: GenerationInput): Record<string, unknown> {
  return {
    modelUri: `art://${input.folderId}/${MODEL_URI_SUFFIX}`,
    messages: [{ text: input.text, weight: '1' }],
    generationOptions: {
      mimeType: MIME_TYPE,
      seed: String(input.seed),
      aspectRatio: { widthRatio: String(input.widthRatio), heightRatio: String(input.heightRatio) },
    },
  };
}

/** Only the Operation fields we read; `createdAt` and friends may be null and are ignored. */
const operationSchema = z.object({
  id: z.string().optional(),
  done: z.boolean().nullish(),
  // The reference's own Go port models this as a string and fails on the real object (1.5).
  error: z
    .object({ code: z.number().nullish(), message: z.string().nullish() })
    .nullish(),
  response: z
    .object({ image: z.string().nullish(), modelVersion: z.string().nullish() })
    .nullish(),
});

export interface RemoteOperation {
  readonly id: string;
  readonly done: boolean;
  /** Set when the operation failed (google.rpc.Code > 0; the SDK treats code 0 as no error). */
  readonly error?: { readonly code: number; readonly message: string };
  /** Base64 JPEG, set when the operation is done and succeeded. */
  readonly image?: string;
  readonly modelVersion?: string;
}

/** The gateway's error envelope: `{"error":{"grpcCode","httpCode","message","httpStatus","details"}}`. */
const envelopeSchema = z.object({
  error: z.object({ message: z.string().optional(), httpStatus: z.string().optional(), grpcCode: z.number().optional() }).optional(),
  message: z.string().optional(),
});

/** The phrase of a moderation refusal (several independent clients match it; 1.6). */
const MODERATION = /violate the terms of us/i;

export interface YandexArtApiOptions {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** Replaces credentials in any text before it goes into an error. */
  readonly scrub: (text: string) => string;
}

/** Network failures where the request never reached the server: safe to send again. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class YandexArtApi {
  private readonly http: RemoteHttp;

  constructor(private readonly options: YandexArtApiOptions) {
    this.http = new RemoteHttp({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs, maxBodyBytes: 32 * 1024 * 1024 });
  }

  /**
   * Starts a paid generation. Retryable failures (429, 500, 502, 503, a refused connection)
   * are ones where no operation was created. A timeout or a connection dropped after the body
   * was sent may have started one we cannot see: that is final, so a picture is never paid twice.
   *
   * It takes no abort signal on purpose: once the body is sent, the answer carries the id of
   * an operation Yandex bills for, and cutting the request short (a shutdown) would lose it.
   * The request's own timeout bounds the wait; the caller honours its abort after saving the id.
   */
  async start(input: GenerationInput, credentials: Credentials): Promise<RemoteOperation> {
    let response: RemoteResponse;
    try {
      response = await this.http.send({ method: 'POST', path: GENERATE_PATH, json: generationBody(input), headers: authHeaders(credentials) });
    } catch (error) {
      if (error instanceof RemoteError && error.failure === 'network' && NOT_SENT.has(causeCode(error) ?? '')) throw this.scrubbed(error);
      const message = error instanceof Error ? this.options.scrub(error.message) : 'unknown failure';
      throw new ProviderError(`YandexART generation request: ${message}; not sent again, as it may have started a paid generation`);
    }
    if (response.status === 504) {
      throw new ProviderError(`YandexART generation request answered HTTP 504 (deadline exceeded); not sent again, as it may have started a paid generation`);
    }
    if (response.status < 200 || response.status >= 300) throw this.httpError('generation request', response);
    return this.readOperation(response);
  }

  /** Polls an operation: free, so any transient failure may be retried. */
  async get(operationId: string, credentials: Credentials, signal: AbortSignal): Promise<RemoteOperation> {
    let response: RemoteResponse;
    try {
      response = await this.http.send({ method: 'GET', path: `/operations/${encodeURIComponent(operationId)}`, headers: authHeaders(credentials), signal });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw error instanceof RemoteError ? this.scrubbed(error) : error;
    }
    if (response.status === 404) {
      throw new ProviderError(`YandexART does not know operation ${operationId} (results are kept 3 days; or other credentials made it)`);
    }
    if (response.status < 200 || response.status >= 300) throw this.httpError('operation poll', response);
    return this.readOperation(response);
  }

  private readOperation(response: RemoteResponse): RemoteOperation {
    let json: unknown;
    try {
      json = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw this.invalid(response, 'an answer that is not JSON');
    }
    const parsed = operationSchema.safeParse(json);
    if (!parsed.success || parsed.data.id === undefined || !OPERATION_ID.test(parsed.data.id)) {
      throw this.invalid(response, 'an Operation without a usable id');
    }
    const { id, done, error, response: result } = parsed.data;
    const code = error?.code ?? 0;
    return {
      id,
      done: done === true,
      ...(error && code > 0 ? { error: { code, message: this.options.scrub(error.message ?? '') } } : {}),
      ...(typeof result?.image === 'string' ? { image: result.image } : {}),
      ...(typeof result?.modelVersion === 'string' && result.modelVersion !== '' ? { modelVersion: result.modelVersion } : {}),
    };
  }

  private httpError(what: string, response: RemoteResponse): RemoteError {
    const { scrub } = this.options;
    const envelope = jsonBodyAs(envelopeSchema, response.body);
    const said = envelope?.error?.message ?? envelope?.message;
    const statusText = envelope?.error?.httpStatus ? ` ${envelope.error.httpStatus}` : '';
    const excerpt = scrub(said ?? bodyExcerpt(response.body));
    let message: string;
    if (response.status === 400 && MODERATION.test(excerpt)) {
      message = `YandexART refused the prompt: ${excerpt}`;
    } else if (response.status === 401 || response.status === 403) {
      message = `YandexART refused the credentials (HTTP ${response.status}${statusText}: ${excerpt || 'no reason given'})`;
    } else {
      message = `YandexART ${what} answered HTTP ${response.status}${statusText}${excerpt === '' ? '' : `: ${excerpt}`}`;
    }
    const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
    return new RemoteError(message, {
      failure: 'http',
      status: response.status,
      url: scrub(response.url),
      excerpt,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }

  private invalid(response: RemoteResponse, what: string): RemoteError {
    const excerpt = this.options.scrub(bodyExcerpt(response.body, 120));
    return new RemoteError(`YandexART answered ${what}: ${excerpt || '(empty body)'}`, {
      failure: 'invalid-response',
      status: response.status,
      url: this.options.scrub(response.url),
      excerpt,
    });
  }

  /** The same error with every text scrubbed; the original (and its cause) stays here. */
  private scrubbed(error: RemoteError): RemoteError {
    const { scrub } = this.options;
    return new RemoteError(scrub(error.message), {
      failure: error.failure,
      url: scrub(error.url),
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.excerpt === undefined ? {} : { excerpt: scrub(error.excerpt) }),
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    });
  }
}

/** `Api-Key <key>` or `Bearer <IAM token>`; no `x-folder-id` (the docs advise against it). */
export function authHeaders(credentials: Credentials): Record<string, string> {
  return {
    Authorization: `${credentials.scheme} ${credentials.secret}`,
    // Asks Yandex not to keep the prompt and image for its own use (a documented header).
    'x-data-logging-enabled': 'false',
  };
}

function causeCode(error: RemoteError): string | undefined {
  return (error.cause as { code?: string } | undefined)?.code;
}
