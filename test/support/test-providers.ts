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
