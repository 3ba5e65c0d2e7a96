import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ImageLibrary } from '../library/image-library.js';
import type { PromptStore } from '../prompts/prompt-store.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ImageProvider, ProviderResult, ResumeSlot } from '../providers/types.js';
import type { FrameProfile } from '../render/frame-profile.js';
import type { RenderCache } from '../render/render-cache.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { StorageProblems } from '../util/storage-problems.js';
import { isStorageError } from '../util/fs-errors.js';
import { decide, START_KEYWORDS, type Decision } from './decision.js';
import type { QuietHours } from '../config/app-config.js';
import type { FrameObserver } from './frame-observer.js';
import type { GenerationLedger } from './generation-ledger.js';
import type { JobStore, PersistedJob } from './job-store.js';
import type { ProviderGate } from './provider-gate.js';
import { inRange } from './time-range.js';
import type { Operation, PictureSource } from './operation.js';
import type { OperationChange, OperationStore } from './operation-store.js';
import { RecentPictures } from './recent-pictures.js';

export interface StartRequest {
  readonly type: string;
  readonly prompt?: string;
  readonly negative?: string;
}

/** A `type` that is neither a keyword nor a provider of this server. */
export class UnknownTypeError extends Error {
  constructor(
    readonly type: string,
    readonly allowed: readonly string[],
  ) {
    super(`unknown type "${type}"; expected one of ${allowed.join(', ')}`);
    this.name = 'UnknownTypeError';
  }
}

/** The prompt a generation uses: the text sent, and the template it came from. */
interface ChosenPrompt {
  readonly prompt: string;
  readonly template?: string;
  readonly negative?: string;
}

export interface FrameServiceOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly operations: OperationStore;
  readonly library: ImageLibrary;
  readonly renders: RenderCache;
  readonly prompts: PromptStore;
  readonly providers: ProviderRegistry;
  readonly jobs: JobStore;
  readonly frame: FrameProfile;
  /** Minutes since the last call to any provider before `auto` generates. */
  readonly thresholdMinutes: number;
  readonly generationTimeoutMs: number;
  /** Per-provider rules (threshold, sleep hours, daily limit) and readiness. */
  readonly gate: ProviderGate;
  /** Calls and outcomes per provider and day; also when a provider was last called. */
  readonly ledger: GenerationLedger;
  readonly quietHours: readonly QuietHours[];
  readonly observer?: FrameObserver;
  /** Removes secrets (API keys, the admin token) from text shown outside the log. */
  readonly redact?: (text: string) => string;
  /** Where failed writes (disk full, read-only) are reported, so the page can say so. */
  readonly storage?: StorageProblems;
}

/** How many stored pictures one request tries before it gives up on the library. */
const STORED_PICTURE_ATTEMPTS = 3;

/**
 * Answers the frame: decides per start between a stored picture and a new one, runs
 * generations in the background (a start never waits for a provider, contract: 2 s), and
 * falls back to a stored picture when a generation fails, so the frame always gets one.
 */
export class FrameService {
  private readonly recent = new RecentPictures();
  /** The library picture of the last result sent to a frame (kept in memory only). */
  private lastSentName: string | undefined;
  private readonly running = new Map<string, AbortController>();
  /** Pictures whose original cannot be rendered: left alone on disk, kept out of rotation. */
  private readonly broken = new Set<string>();
  private readonly shutdownController = new AbortController();
  /** Background work of every operation, so shutdown can wait for files being written. */
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Base64 of recently sent renders, so a busy frame fleet does not read and encode the same
   * file again and again. Bounded by bytes; renders never change once written.
   */
  private readonly encodedRenders = new LRUCache<string, Buffer>({
    maxSize: 2 * 1024 * 1024,
    sizeCalculation: (value) => value.length,
  });

  constructor(private readonly options: FrameServiceOptions) {}

  private redact(text: string): string {
    return this.options.redact === undefined ? text : this.options.redact(text);
  }

  /** Every `type` a client may send. */
  allowedTypes(): string[] {
    return [...START_KEYWORDS, ...this.options.providers.pool.map((provider) => provider.id)];
  }

  /** Creates the operation and answers at once; any slow work continues in the background. */
  start(request: StartRequest): Operation {
    const { providers } = this.options;
    if (!(START_KEYWORDS as readonly string[]).includes(request.type) && !providers.isPoolMember(request.type)) {
      throw new UnknownTypeError(request.type, this.allowedTypes());
    }
    const operation = this.options.operations.create(request.type);
    const quiet = this.quietHoursNow();
    const readyProviders = (): ImageProvider[] => this.readyProviders();
    const decision = decide({
      type: request.type,
      hasPrompt: request.prompt !== undefined,
      libraryEmpty: this.options.library.size === 0,
      thresholdPassed: this.thresholdPassed(),
      // A getter: most frame requests are answered from the library without checking any rule.
      get ready() {
        return readyProviders().map((provider) => ({ id: provider.id, acceptsPrompt: provider.capabilities.acceptsPrompt }));
      },
      ...(quiet === undefined ? {} : { quiet: { blackImage: quiet.blackImage } }),
    });
    this.options.logger.debug('operation started', { id: operation.id, type: request.type, decision: decision.action, reason: decision.reason });
    this.follow(operation, this.carryOut(operation, decision, request));
    return operation;
  }

  get(id: string): Operation | undefined {
    return this.options.operations.get(id);
  }

  /**
   * The frame JPEG of a finished operation, as the ASCII bytes of its base64 (what the frame
   * reads). Kept as a Buffer, outside the JS heap, to spare the garbage collector. If the
   * render has gone (pruned since), the frame still gets a picture: another stored one.
   */
  async frameImageBase64(operation: Operation): Promise<Buffer> {
    const first = await this.tryEncoded(operation);
    if (first !== undefined) return first;
    // The render has gone (pruned since) or cannot be read: the frame still gets a picture.
    this.options.logger.info('render of a finished operation cannot be read; sending another picture', { id: operation.id });
    await this.fallBack(operation);
    return (await this.tryEncoded(operation)) ?? Buffer.from((await this.options.renders.blackInMemory()).toString('base64'), 'latin1');
  }

  /** The operation's picture as base64, or undefined when its render cannot be read. */
  private async tryEncoded(operation: Operation): Promise<Buffer | undefined> {
    if (operation.image !== undefined) return Buffer.from(operation.image.toString('base64'), 'latin1');
    if (operation.renderPath === undefined) return undefined;
    try {
      return await this.readEncoded(operation.renderPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.options.logger.warn('a frame render cannot be read', { path: operation.renderPath, error: code ?? (error as Error).message });
      if (operation.pictureName !== undefined && code !== 'ENOENT') this.broken.add(operation.pictureName);
      return undefined;
    }
  }

  private async readEncoded(renderPath: string): Promise<Buffer> {
    const cached = this.encodedRenders.get(renderPath);
    if (cached !== undefined) return cached;
    // A frame render is ~10-30 KB, normally in the page cache: a synchronous read costs tens of
    // microseconds, while the async path takes four thread-pool round trips (open, stat, read,
    // close) that queue behind each other when many frames ask at once (the load benchmark's
    // p99 dropped several-fold with this). A cold read from an SD card blocks for milliseconds,
    // far inside the frame's 2 s.
    const encoded = Buffer.from(readFileSync(renderPath).toString('base64'), 'latin1');
    this.encodedRenders.set(renderPath, encoded);
    return encoded;
  }

  /** Providers that may be called now, by their own state and every rule of options.yml. */
  readyProviders(): ImageProvider[] {
    return this.options.providers.pool.filter((provider) => this.options.gate.isReady(provider));
  }

  /** The quiet-hours range in force now, if any. */
  quietHoursNow(): QuietHours | undefined {
    const now = this.options.clock.now();
    return this.options.quietHours.find((quiet) => inRange(quiet.range, now));
  }

  /** Tells the observer a picture went out (the HTTP layer calls this after sending a result). */
  pictureSent(operation: Operation): void {
    // Undefined for a picture from outside the library (a photo folder): the frame shows none of ours.
    this.lastSentName = operation.pictureName;
    this.options.observer?.pictureSent?.({ source: operation.source ?? 'library' });
  }

  /**
   * The library picture most recently sent to a frame (what it shows now, for the web page);
   * undefined before the first one, or when the last one came from outside the library.
   */
  lastSentPictureName(): string | undefined {
    return this.lastSentName;
  }

  /** Restarts generations saved in the job store by an earlier run (a paid remote job). */
  async resumeSavedJobs(saved: readonly PersistedJob[]): Promise<void> {
    for (const job of saved) {
      const provider = this.options.providers.get(job.providerId);
      if (!provider) {
        this.options.logger.warn('a saved job names a provider that is no longer configured; dropped', job.providerId === undefined ? {} : { provider: job.providerId });
        await this.options.jobs.remove(job.operationId);
        continue;
      }
      const operation = this.options.operations.get(job.operationId) ?? this.options.operations.create(job.type, job.operationId);
      this.options.logger.info('resuming a generation saved before the restart', { id: job.operationId, provider: provider.id });
      const chosen: ChosenPrompt = { prompt: job.prompt, template: job.template, negative: job.negative };
      this.follow(operation, this.generate(operation, provider, chosen, job.seed, job));
    }
  }

  /** The pending-jobs cron: drop expired operations. */
  sweep(): void {
    const dropped = this.options.operations.sweep();
    if (dropped > 0) this.options.logger.debug('expired operations dropped', { count: dropped });
  }

  /**
   * Stops running generations at their next safe point and waits (up to `graceMs`) for
   * background work to settle, so no file is left half-written. Jobs with saved state
   * resume at the next start.
   */
  async shutdown(graceMs = 5000): Promise<void> {
    if (this.running.size > 0) this.options.logger.info('stopping running generations', { count: this.running.size });
    this.shutdownController.abort(new Error('the server is shutting down'));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    clearTimeout(timer);
  }

  private thresholdPassed(): boolean {
    const last = this.options.ledger.lastAnyCallAt();
    if (last === undefined) return true;
    const elapsed = this.options.clock.now().getTime() - last;
    return elapsed >= this.options.thresholdMinutes * 60_000;
  }

  private async carryOut(operation: Operation, decision: Decision, request: StartRequest): Promise<void> {
    if (decision.action === 'library') {
      await this.serveFromLibrary(operation, 'library');
      return;
    }
    if (decision.action === 'black') {
      await this.serveBlack(operation);
      return;
    }
    const id = decision.providers[randomInt(decision.providers.length)] as string;
    const provider = this.options.providers.get(id) as ImageProvider;
    const chosen = this.choosePrompt(request, provider);
    await this.generate(operation, provider, chosen, randomInt(2 ** 31), undefined);
  }

  private choosePrompt(request: StartRequest, provider: ImageProvider): ChosenPrompt {
    if (!provider.capabilities.acceptsPrompt) return { prompt: '' };
    if (request.prompt !== undefined) return { prompt: request.prompt, negative: request.negative };
    // A stored prompt is a template: its [[placeholders]] are filled anew for each picture.
    const picked = this.options.prompts.pickFilled();
    if (!picked) return { prompt: '' };
    const negative = request.negative ?? picked.negative;
    return { prompt: picked.prompt, template: picked.template, ...(negative === undefined ? {} : { negative }) };
  }

  private async generate(
    operation: Operation,
    provider: ImageProvider,
    chosen: ChosenPrompt,
    seed: number,
    saved: PersistedJob | undefined,
    standIn = false,
  ): Promise<void> {
    const { logger, frame, operations, jobs, ledger, observer } = this.options;
    // Counted (and on disk) before the call: a daily limit holds even across a crash. A
    // resumed job was counted when it was first made.
    if (saved === undefined && !(await this.countCall(provider))) {
      operations.update(operation, {
        providerId: provider.id,
        note: `${provider.displayName} was not called: its call count cannot be saved, and a paid call is never made uncounted`,
      });
      await this.fallBack(operation, provider.id);
      return;
    }
    const controller = new AbortController();
    const timeoutMs = provider.generationTimeoutMs ?? this.options.generationTimeoutMs;
    const timeout = setTimeout(() => controller.abort(new Error(`generation took longer than ${timeoutMs >= 60_000 ? `${timeoutMs / 60_000} minutes` : `${timeoutMs / 1000} s`}`)), timeoutMs);
    timeout.unref();
    const onShutdown = (): void => controller.abort(this.shutdownController.signal.reason);
    this.shutdownController.signal.addEventListener('abort', onShutdown, { once: true });
    this.running.set(operation.id, controller);
    operations.update(operation, { providerId: provider.id });
    const startedAt = Date.now();
    const finished = async (outcome: 'success' | 'failure'): Promise<void> => {
      observer?.generationFinished?.({ providerId: provider.id, outcome, seconds: (Date.now() - startedAt) / 1000 });
      await this.bookkeeping(() => ledger.recordOutcome(provider.id, outcome), ledger.file, 'the outcome counts are kept in memory only');
    };
    let persisted = saved !== undefined;
    const resume: ResumeSlot = {
      load: () => saved?.resume,
      save: async (state) => {
        persisted = true;
        await jobs.save({
          operationId: operation.id,
          type: operation.type,
          providerId: provider.id,
          prompt: chosen.prompt,
          ...(chosen.template === undefined ? {} : { template: chosen.template }),
          ...(chosen.negative === undefined ? {} : { negative: chosen.negative }),
          seed,
          width: frame.width,
          height: frame.height,
          createdAt: saved?.createdAt ?? operation.createdAt,
          resume: state,
        });
      },
    };
    try {
      const result = await provider.generate({
        prompt: chosen.prompt,
        ...(chosen.negative === undefined || !provider.capabilities.acceptsNegative ? {} : { negative: chosen.negative }),
        seed,
        width: frame.width,
        height: frame.height,
        signal: controller.signal,
        onProgress: (progress) => operations.update(operation, { progress }),
        resume,
      });
      const done = await this.accept(provider, chosen, seed, result);
      // The saved job goes before the operation is done: whoever sees "done" (a frame, a
      // test, the web page) finds the books closed, and a restart cannot resume it twice.
      if (persisted) await this.removeSavedJob(operation.id);
      persisted = false;
      await finished('success');
      operations.update(operation, done);
      logger.info('new picture', { id: operation.id, provider: provider.id, seconds: (Date.now() - startedAt) / 1000 });
    } catch (error) {
      const shuttingDown = this.shutdownController.signal.aborted;
      if (shuttingDown && persisted) {
        logger.info('generation interrupted by shutdown; it resumes at the next start', { id: operation.id, provider: provider.id });
        return;
      }
      if (persisted) await this.removeSavedJob(operation.id);
      await finished('failure');
      const reason = (error as Error).message;
      logger.warn('generation failed; the frame gets a stored picture', { id: operation.id, provider: provider.id, reason });
      // The note is readable without a token (API, status): a provider's error text is
      // scrubbed of every registered secret, whatever the provider did itself.
      operations.update(operation, { note: this.redact(`generation failed: ${reason}`) });
      if (shuttingDown) return;
      // The stand-in was the fallback already: what is left is the black frame.
      if (standIn) await this.serveBlack(operation);
      else await this.fallBack(operation, provider.id);
    } finally {
      clearTimeout(timeout);
      this.shutdownController.signal.removeEventListener('abort', onShutdown);
      this.running.delete(operation.id);
    }
  }

  /**
   * Says once, in the log, that this call used up a provider's daily limit: from now until
   * midnight the gate leaves it out and frames get stored pictures, which would otherwise look
   * like a provider that silently stopped working.
   */
  private noteDailyLimitReached(provider: ImageProvider): void {
    const status = this.options.gate.status(provider);
    if (status.dailyLimit === undefined || status.today !== status.dailyLimit) return;
    this.options.logger.info(`provider ${provider.id} reached its daily limit of ${status.dailyLimit} generations; until midnight it is not called`);
  }

  /** Stores what a provider made and renders it; returns the operation's finished state. */
  private async accept(provider: ImageProvider, chosen: ChosenPrompt, seed: number, result: ProviderResult): Promise<OperationChange> {
    const { library, renders } = this.options;
    if (result.kind === 'file') {
      try {
        const renderPath = await renders.ensureExternal(result.path);
        return { status: 'done', renderPath, source: 'provider' };
      } catch (error) {
        if (!this.reportStorage(error, renders.dir, 'photos are rendered in memory for the frame and not kept')) throw error;
        return { status: 'done', image: await renders.renderInMemory(result.path), source: 'provider' };
      }
    }
    let picture;
    try {
      picture = await this.storeGenerated(provider, chosen, seed, result);
    } catch (error) {
      // A picture made (maybe paid for) is shown even when it cannot be kept.
      if (!this.reportStorage(error, library.originalDir, 'new pictures are shown on the frame but not kept')) throw error;
      return { status: 'done', image: await renders.renderInMemory(result.bytes), source: 'provider', note: 'the new picture could not be saved: the disk takes no writes' };
    }
    this.options.storage?.recovered(library.originalPath(picture.name));
    const renderPath = await this.renderStored(picture.name);
    this.recent.remember(picture.name);
    return { status: 'done', ...renderPath, pictureName: picture.name, source: 'provider' };
  }

  private storeGenerated(provider: ImageProvider, chosen: ChosenPrompt, seed: number, result: Extract<ProviderResult, { kind: 'bytes' }>) {
    return this.options.library.add(result.bytes, {
      provider: provider.id,
      ...(chosen.prompt === '' && result.prompt === undefined ? {} : { prompt: result.prompt ?? chosen.prompt }),
      ...(chosen.template === undefined ? {} : { template: chosen.template }),
      ...(chosen.negative === undefined ? {} : { negative: chosen.negative }),
      seed: result.seed ?? seed,
      ...(result.details === undefined ? {} : { details: result.details }),
    });
  }

  /**
   * The frame render of a stored picture: from the cache, made now, or (when the disk takes
   * no writes) made in memory. Rejects when the original cannot be rendered at all.
   */
  private async renderStored(name: string): Promise<{ renderPath: string; image?: undefined } | { image: Buffer; renderPath?: undefined }> {
    const { library, renders } = this.options;
    if (renders.has(name)) return { renderPath: renders.pathFor(name) };
    try {
      return { renderPath: await renders.ensure(name, library.originalPath(name)) };
    } catch (error) {
      if (!this.reportStorage(error, renders.dir, 'frame renders are made in memory for each request')) throw error;
      return { image: await renders.renderInMemory(library.originalPath(name)) };
    }
  }

  /**
   * Counts a call before it is made. When the count cannot be saved, a free provider is
   * called anyway (the count stays in memory); a paid one is not: fail closed on money.
   */
  private async countCall(provider: ImageProvider): Promise<boolean> {
    const { ledger } = this.options;
    try {
      await ledger.recordCall(provider.id);
      this.options.storage?.recovered(ledger.file);
    } catch (error) {
      const consequence = 'call counts are kept in memory only; paid providers are not called until it can be saved';
      if (!this.reportStorage(error, ledger.file, consequence)) {
        this.options.logger.error('the call count cannot be saved', { provider: provider.id, error: (error as Error).message });
      }
      if (provider.capabilities.paid) return false;
    } finally {
      this.noteDailyLimitReached(provider);
    }
    return true;
  }

  /** Runs a write the picture does not depend on; a failure is reported, never thrown. */
  private async bookkeeping(write: () => Promise<void>, path: string, consequence: string): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (!this.reportStorage(error, path, consequence)) this.options.logger.error(`cannot write ${path}`, { error: (error as Error).message });
    }
  }

  private removeSavedJob(operationId: string): Promise<void> {
    return this.bookkeeping(() => this.options.jobs.remove(operationId), this.options.jobs.file, 'a finished job may be resumed once more after a restart');
  }

  /** Reports a storage failure; false when the error is something else (for the caller to throw). */
  private reportStorage(error: unknown, path: string, consequence: string): boolean {
    return this.options.storage?.report(error, path, consequence) ?? isStorageError(error);
  }

  /**
   * After a failed generation, or when a picture cannot be read: a stored picture, else the
   * offline generator, else a black frame. Each step is tried once, so the chain always ends
   * with a picture, however broken the library, the disk or the generators are.
   */
  private async fallBack(operation: Operation, failedProviderId?: string): Promise<void> {
    if (await this.serveStored(operation, 'fallback')) return;
    const lastResort = this.options.providers.lastResort;
    if (lastResort && lastResort.id !== failedProviderId) {
      this.options.logger.info('no stored picture can be shown; the offline generator stands in', { id: operation.id });
      await this.generate(operation, lastResort, this.choosePrompt({ type: 'ydart' }, lastResort), randomInt(2 ** 31), undefined, true);
      return;
    }
    await this.serveBlack(operation);
  }

  /** Serves a stored picture (avoiding the last few shown); false when none can be rendered. */
  private async serveStored(operation: Operation, source: PictureSource): Promise<boolean> {
    const { library, operations, logger } = this.options;
    for (let attempt = 0; attempt < STORED_PICTURE_ATTEMPTS; attempt += 1) {
      const exclude = new Set([...this.recent.exclusions(library.size - this.broken.size), ...this.broken]);
      const picture = library.pickRandom(exclude);
      if (!picture || this.broken.has(picture.name)) return false;
      try {
        const render = await this.renderStored(picture.name);
        this.recent.remember(picture.name);
        operations.update(operation, { status: 'done', renderPath: render.renderPath, image: render.image, pictureName: picture.name, source });
        return true;
      } catch (error) {
        this.broken.add(picture.name);
        logger.warn('stored picture cannot be rendered; left out of rotation', { picture: picture.name, reason: (error as Error).message });
      }
    }
    return false;
  }

  /**
   * Points the operation at a random stored picture; when none can be shown, falls back
   * (offline generator, black frame).
   */
  private async serveFromLibrary(operation: Operation, source: PictureSource): Promise<void> {
    if (await this.serveStored(operation, source)) return;
    await this.fallBack(operation);
  }

  /** The black frame (quiet hours, or the end of the fallback chain): from disk or memory. */
  private async serveBlack(operation: Operation): Promise<void> {
    const { renders, operations } = this.options;
    let change: OperationChange;
    try {
      change = { renderPath: await renders.ensureBlack(), image: undefined };
    } catch (error) {
      if (!this.reportStorage(error, renders.dir, 'frame renders are made in memory for each request')) {
        this.options.logger.warn('the black frame cannot be written; it is kept in memory', { error: (error as Error).message });
      }
      change = { image: await renders.blackInMemory(), renderPath: undefined };
    }
    operations.update(operation, { status: 'done', ...change, pictureName: undefined, source: 'black' });
  }

  /** Background work never rejects into the void: a bug becomes a failed operation and a log line. */
  private follow(operation: Operation, work: Promise<void>): void {
    const tracked = work
      .catch(async (error: unknown) => {
        this.options.logger.error('operation failed unexpectedly', { id: operation.id, error: (error as Error).stack ?? String(error) });
        if (operation.status !== 'pending') return;
        // Even a bug ends with a picture: the black frame needs nothing but sharp.
        try {
          this.options.operations.update(operation, { status: 'done', image: await this.options.renders.blackInMemory(), source: 'black' });
        } catch {
          this.options.operations.update(operation, { status: 'error' });
        }
      })
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}
