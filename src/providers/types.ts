/**
 * The provider seam, version 1.
 *
 * A provider turns one request into one image. It knows nothing of the frame protocol,
 * the library or HTTP: it receives what it needs and returns bytes (or a reference to a
 * file it does not own). The rules that decide *whether* a provider may be called now
 * (thresholds, sleep hours, daily budgets, disabled lists) live outside providers, in
 * `src/operations`, so every provider gets them without writing them again.
 */

/** What a provider can honour. Settings it cannot honour are ignored with a warning, never a crash. */
export interface ProviderCapabilities {
  /** Uses the request's prompt. A provider that ignores it (a photo folder) says false. */
  readonly acceptsPrompt: boolean;
  /** Uses the request's negative prompt. */
  readonly acceptsNegative: boolean;
  /** Each call costs money (a cloud API): callers are stricter about retries and budgets. */
  readonly paid: boolean;
  /** Generates something new (true), or picks an existing picture (false, a photo folder). */
  readonly generates: boolean;
}

/** Whether a provider can take a request right now, by its own state (credentials, model, remote up). */
export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

/** Progress of one generation, for providers that can tell. */
export interface GenerationProgress {
  /** Step done so far, 0..total. */
  readonly step: number;
  readonly total: number;
  /** A small preview image (JPEG/PNG/WebP bytes) when the provider has one. */
  readonly preview?: Uint8Array;
}

/**
 * Somewhere a provider keeps state that must survive a restart, such as the id of a paid
 * remote operation. Saving returns once the state is on disk: a provider saves a remote id
 * before waiting on it, so a restart resumes polling instead of paying again.
 */
export interface ResumeSlot {
  /** The state saved by an earlier run of this same job, if any. */
  load(): unknown;
  save(state: unknown): Promise<void>;
}

export interface GenerateRequest {
  /** The prompt actually sent (templates already filled in). Empty when the provider takes none. */
  readonly prompt: string;
  readonly negative?: string;
  /** A seed chosen and recorded by the caller; providers that take seeds use it. */
  readonly seed: number;
  /** The size wanted: the frame's. Providers choose the nearest size they support. */
  readonly width: number;
  readonly height: number;
  /** Aborted on shutdown or cancellation: stop at the next safe point and reject with it. */
  readonly signal: AbortSignal;
  onProgress?(progress: GenerationProgress): void;
  readonly resume: ResumeSlot;
}

/** An image the provider made: bytes to keep in the library. */
export interface GeneratedBytes {
  readonly kind: 'bytes';
  /** JPEG, PNG or WebP bytes exactly as received or made. */
  readonly bytes: Uint8Array;
  /** The seed actually used, when it differs from the request's (a server that picks its own). */
  readonly seed?: number;
  /** The prompt actually used, when the provider changed it (cut to a length limit, say). */
  readonly prompt?: string;
  /** Anything else worth recording in the picture's metadata (model, steps, sampler...). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A picture the provider found but does not own (a file in a user's photo folder): never copied. */
export interface ExternalFile {
  readonly kind: 'file';
  readonly path: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type ProviderResult = GeneratedBytes | ExternalFile;

export interface ImageProvider {
  /** Stable id: the `type` a client may send, the key under `providers.` in options.yml. */
  readonly id: string;
  /** A human name for logs and the status page. */
  readonly displayName: string;
  readonly capabilities: ProviderCapabilities;
  /**
   * How long one generation may take, when this provider knows better than the server-wide
   * `generation_timeout_minutes` (a remote job that can legitimately wait an hour in a queue,
   * bounded by the provider's own option). Undefined: the server-wide limit.
   */
  readonly generationTimeoutMs?: number;
  /** Cheap, synchronous: may not do I/O. Providers that need a remote check cache its result. */
  readiness(): Readiness;
  /** Makes one image. Rejects with the signal's reason when aborted. */
  generate(request: GenerateRequest): Promise<ProviderResult>;
  /** Optional start-up work (scan a folder, check a model) before the provider is used. */
  start?(): Promise<void>;
  /** Optional periodic work (re-scan a folder, re-check a remote server); the scan cron calls it. */
  refresh?(): Promise<void>;
  /**
   * Optional: the check_pending cron calls it. A provider waiting on remote operations polls
   * them now instead of at its next interval (upstream polls YandexART on this cron).
   */
  checkPending?(): Promise<void>;
  /** Releases timers, workers and sockets. */
  close?(): Promise<void>;
}

/** Thrown by a provider for a failure that retrying the same request will not fix. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
  }
  get retryable(): boolean {
    return this.options.retryable ?? false;
  }
}
