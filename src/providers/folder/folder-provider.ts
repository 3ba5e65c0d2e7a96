/**
 * Shows photos from a local folder instead of generating pictures. It hands back the path
 * of a file it does not own: the library never copies the user's folder, and the renderer
 * applies EXIF orientation when it fits the picture to the frame.
 */
import { stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { Logger } from '../../util/logger.js';
import {
  ProviderError,
  type GenerateRequest,
  type ImageProvider,
  type ProviderCapabilities,
  type ProviderResult,
  type Readiness,
} from '../types.js';
import { RecentPicker } from './recent-picker.js';
import { scanPictures } from './scan-pictures.js';

export interface FolderProviderOptions {
  /** Upstream ImageServer calls its local-images source `lim`. */
  readonly id?: string;
  readonly folder: string;
  readonly logger: Logger;
  /** Uniform in [0, 1); tests pass a seeded one. */
  readonly random?: () => number;
  /** Folder levels searched below `folder`. */
  readonly maxDepth?: number;
}

export class FolderProvider implements ImageProvider {
  readonly id: string;
  readonly displayName = 'Local photo folder';
  readonly capabilities: ProviderCapabilities = {
    acceptsPrompt: false,
    acceptsNegative: false,
    paid: false,
    generates: false,
  };
  private readonly folder: string;
  private readonly logger: Logger;
  private readonly picker: RecentPicker;
  private readonly maxDepth: number;
  private pictures: string[] = [];
  private state: Readiness;
  private scanning: Promise<void> | undefined;

  constructor(options: FolderProviderOptions) {
    this.id = options.id ?? 'lim';
    this.folder = resolve(options.folder);
    this.logger = options.logger;
    this.picker = new RecentPicker(options.random);
    this.maxDepth = options.maxDepth ?? 8;
    this.state = { ready: false, reason: `folder ${this.folder} has not been scanned yet` };
  }

  async start(): Promise<void> {
    await this.refresh();
  }

  /** Rescans the folder (a cron calls this). Concurrent calls share one scan. */
  refresh(): Promise<void> {
    this.scanning ??= this.scan().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  readiness(): Readiness {
    return this.state;
  }

  /** How many pictures the last scan found (for the status page). */
  get count(): number {
    return this.pictures.length;
  }

  async generate(request: GenerateRequest): Promise<ProviderResult> {
    const { signal } = request;
    signal.throwIfAborted();
    let rescanned = false;
    for (;;) {
      const chosen = this.picker.pick(this.pictures);
      if (chosen === undefined) {
        if (rescanned) break;
        rescanned = true;
        await this.refresh();
        signal.throwIfAborted();
        continue;
      }
      const present = await stat(chosen).then(
        (found) => found.isFile(),
        () => false,
      );
      signal.throwIfAborted();
      if (present) {
        request.onProgress?.({ step: 1, total: 1 });
        return { kind: 'file', path: chosen, details: { folderPath: relative(this.folder, chosen) } };
      }
      // Deleted or moved since the last scan: drop it and try another.
      this.logger.info('folder picture vanished', { path: chosen });
      this.pictures = this.pictures.filter((picture) => picture !== chosen);
      this.picker.forget(chosen);
    }
    if (this.pictures.length === 0 && this.state.ready) this.state = this.emptyState();
    const reason = this.state.ready ? `folder ${this.folder} holds no pictures` : this.state.reason;
    throw new ProviderError(reason, { retryable: false });
  }

  private async scan(): Promise<void> {
    const started = performance.now();
    try {
      const result = await scanPictures(this.folder, {
        maxDepth: this.maxDepth,
        onSkip: (path, error) =>
          this.logger.warn('folder: cannot read subfolder', { path, error: errorCode(error) }),
      });
      this.pictures = [...result.pictures];
      this.state = this.pictures.length > 0 ? { ready: true } : this.emptyState();
      this.logger.info('folder scanned', {
        folder: this.folder,
        pictures: this.pictures.length,
        skipped: result.skipped,
        ms: Math.round(performance.now() - started),
      });
    } catch (error) {
      this.pictures = [];
      this.state = { ready: false, reason: this.describeFailure(error) };
      this.logger.warn('folder scan failed', { folder: this.folder, reason: this.state.reason });
    }
  }

  private emptyState(): Readiness {
    return { ready: false, reason: `folder ${this.folder} holds no JPEG, PNG or WebP pictures` };
  }

  private describeFailure(error: unknown): string {
    switch (errorCode(error)) {
      case 'ENOENT':
        return `folder ${this.folder} does not exist`;
      case 'ENOTDIR':
        return `${this.folder} is not a folder`;
      case 'EACCES':
      case 'EPERM':
        return `folder ${this.folder} cannot be read (permission denied)`;
      default:
        return `folder ${this.folder} cannot be read: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
