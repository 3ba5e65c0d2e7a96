import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX, writeFileAtomic } from '../util/atomic-write.js';
import { Limiter } from '../util/limiter.js';
import type { Logger } from '../util/logger.js';
import { renderThumbnail } from './thumbnail.js';
import { PICTURE_NAME_PATTERN } from '../library/picture-name.js';

const THUMBNAIL_EXTENSION = '.jpg';
/** Thumbnails made at once: a gallery scrolled fast asks for dozens, each decodes an original. */
export const DEFAULT_THUMBNAIL_CONCURRENCY = 2;

export interface ThumbnailCacheOptions {
  /** `images/thumbnail`. */
  readonly root: string;
  readonly logger: Logger;
  readonly concurrency?: number;
  /** The renderer; tests count its calls. Default {@link renderThumbnail}. */
  readonly render?: (originalPath: string) => Promise<Buffer>;
}

/**
 * Gallery thumbnails on disk, one per library picture, made on first request and kept until
 * the picture leaves the library. Names are unique and pictures never change, so a
 * thumbnail, once written, is never stale.
 */
export class ThumbnailCache {
  private readonly names = new Set<string>();
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly render: (originalPath: string) => Promise<Buffer>;
  private readonly limiter: Limiter;

  constructor(private readonly options: ThumbnailCacheOptions) {
    this.render = options.render ?? renderThumbnail;
    this.limiter = new Limiter(options.concurrency ?? DEFAULT_THUMBNAIL_CONCURRENCY, 'thumbnail concurrency');
  }

  /** Creates the folder, loads what is there and deletes temporaries a crash left. */
  async open(): Promise<void> {
    await mkdir(this.options.root, { recursive: true });
    this.names.clear();
    for (const entry of await readdir(this.options.root, { withFileTypes: true })) {
      if (entry.name.startsWith(TEMP_PREFIX)) await rm(join(this.options.root, entry.name), { force: true });
      else if (entry.isFile() && entry.name.endsWith(THUMBNAIL_EXTENSION)) this.names.add(entry.name.slice(0, -THUMBNAIL_EXTENSION.length));
    }
  }

  /**
   * Deletes thumbnails of pictures the library no longer has (deleted while the server was
   * stopped). Returns how many went.
   */
  async removeOrphans(isKnown: (name: string) => boolean): Promise<number> {
    const orphans = [...this.names].filter((name) => !isKnown(name));
    for (const name of orphans) await this.remove(name);
    if (orphans.length > 0) this.options.logger.info('deleted thumbnails of pictures no longer stored', { count: orphans.length });
    return orphans.length;
  }

  pathFor(name: string): string {
    if (!PICTURE_NAME_PATTERN.test(name)) throw new Error(`not a valid picture name for a thumbnail: ${JSON.stringify(name)}`);
    return join(this.options.root, `${name}${THUMBNAIL_EXTENSION}`);
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Makes the thumbnail unless it exists; resolves to its path. Concurrent callers share one. */
  ensure(name: string, originalPath: string): Promise<string> {
    const path = this.pathFor(name);
    if (this.names.has(name)) return Promise.resolve(path);
    const running = this.inFlight.get(name);
    if (running !== undefined) return running;
    const task = this.limiter.run(async () => {
      await writeFileAtomic(path, await this.render(originalPath));
      this.names.add(name);
      return path;
    }).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, task);
    return task;
  }

  /** Deletes the picture's thumbnail (the picture left the library). A missing file is fine. */
  async remove(name: string): Promise<void> {
    const path = this.pathFor(name);
    // A thumbnail still being made would land after the delete: let it finish first.
    await this.inFlight.get(name)?.catch(() => undefined);
    this.names.delete(name);
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
