import type { GenerateRequest, ImageProvider, ProviderResult, Readiness } from '../../src/providers/types.js';
import { ProviderError } from '../../src/providers/types.js';

/**
 * Providers with a scripted behaviour, plugged in through the provider seam the way any
 * provider is: a slow remote service that never answers, one that always fails, one that
 * records its calls. They stand in for remote services, not for our own code.
 */
abstract class ScriptedProvider implements ImageProvider {
  readonly calls: GenerateRequest[] = [];
  ready = true;
  constructor(
    readonly id: string,
    readonly displayName = id,
    readonly capabilities = { acceptsPrompt: true, acceptsNegative: true, paid: false, generates: true },
  ) {}
  readiness(): Readiness {
    return this.ready ? { ready: true } : { ready: false, reason: 'switched off by the test' };
  }
  generate(request: GenerateRequest): Promise<ProviderResult> {
    this.calls.push(request);
    return this.respond(request);
  }
  protected abstract respond(request: GenerateRequest): Promise<ProviderResult>;
}

/** Never answers until aborted, like a generator on a machine that hung. */
export class HangingProvider extends ScriptedProvider {
  protected respond(request: GenerateRequest): Promise<ProviderResult> {
    return new Promise((_resolve, reject) => {
      const abort = (): void => reject(request.signal.reason as Error);
      if (request.signal.aborted) abort();
      request.signal.addEventListener('abort', abort, { once: true });
    });
  }
}

/** Always fails, like a remote service answering 500. */
export class FailingProvider extends ScriptedProvider {
  protected async respond(): Promise<ProviderResult> {
    throw new ProviderError('remote service answered 500');
  }
}

/** Answers with fixed bytes. */
export class FixedBytesProvider extends ScriptedProvider {
  constructor(
    id: string,
    private readonly bytes: Uint8Array,
  ) {
    super(id);
  }
  protected async respond(): Promise<ProviderResult> {
    return { kind: 'bytes', bytes: this.bytes };
  }
}

/**
 * Reports progress one step at a time, each step only when the test lets it (`step()`), like
 * a slow local generator: tests see every progress event without depending on timing. The
 * first step carries a preview image. After the last step, one more `step()` returns the picture.
 */
export class SteppedProvider extends ScriptedProvider {
  private permits = 0;
  private wake: (() => void) | undefined;

  constructor(
    id: string,
    private readonly bytes: Uint8Array,
    readonly total = 3,
    private readonly preview?: Uint8Array,
  ) {
    super(id);
  }

  /** Lets the running generation take its next step (or finish, after the last). */
  step(): void {
    this.permits += 1;
    this.wake?.();
  }

  protected async respond(request: GenerateRequest): Promise<ProviderResult> {
    for (let done = 1; done <= this.total; done++) {
      await this.nextPermit(request.signal);
      request.onProgress?.({ step: done, total: this.total, ...(done === 1 && this.preview ? { preview: this.preview } : {}) });
    }
    await this.nextPermit(request.signal);
    return { kind: 'bytes', bytes: this.bytes };
  }

  private async nextPermit(signal: AbortSignal): Promise<void> {
    while (this.permits === 0) {
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
      });
      this.wake = undefined;
    }
    this.permits -= 1;
  }
}

/** Picks a photo and takes no prompt, like the photo folder provider. */
export class PromptlessProvider extends ScriptedProvider {
  constructor(
    id: string,
    private readonly bytes: Uint8Array,
  ) {
    super(id, id, { acceptsPrompt: false, acceptsNegative: false, paid: false, generates: false });
  }
  protected async respond(): Promise<ProviderResult> {
    return { kind: 'bytes', bytes: this.bytes };
  }
}
