import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TEMP_PREFIX, writeFileAtomic } from '../util/atomic-write.js';
import { Limiter } from '../util/limiter.js';
import type { Logger } from '../util/logger.js';
import { profileKey, type FrameProfile } from './frame-profile.js';
import { renderBlackFrame, renderForFrame } from './render-for-frame.js';
import { PICTURE_NAME_PATTERN } from '../library/picture-name.js';

/** Renders of files we do not own (a user's photo folder) kept at most; the oldest go first. */
export const DEFAULT_MAX_EXTERNAL_RENDERS = 200;
/** Renders running at once: each decodes a full-size original, which costs memory and CPU. */
export const DEFAULT_RENDER_CONCURRENCY = 2;

const RENDER_EXTENSION = '.jpg';
const EXTERNAL_DIR = 'external';
const BLACK_FRAME = 'black-frame';
/** What {@link profileKey} produces; only folders like this are ever deleted at open. */
const PROFILE_KEY_PATTERN = /^\d+x\d+-(?:auto-t[0-9.eE+-]+|cover|contain|stretch)-q\d+$/;

export interface RenderCacheOptions {
  /** The folder holding one sub-folder of renders per frame profile (images/frame). */
  readonly root: string;
  readonly profile: FrameProfile;
  readonly logger: Logger;
  /** Default {@link DEFAULT_MAX_EXTERNAL_RENDERS}. */
  readonly maxExternal?: number;
  /** Default {@link DEFAULT_RENDER_CONCURRENCY}. */
  readonly concurrency?: number;
  /** The renderer; tests count or slow its calls. Default {@link renderForFrame}. */
  readonly render?: (input: string, profile: FrameProfile) => Promise<Buffer>;
}

/**
 * Frame renders on disk, one per picture and frame profile, made once and reused: serving
 * a stored picture reads a ready JPEG and decodes nothing. A profile change (screen size,
 * fit, quality) gets a fresh folder; the old one is deleted at the next open and its
 * renders are rebuilt on demand.
 */
export class RenderCache {
  /** Where this profile's renders live: `<root>/<profileKey>`. */
  readonly dir: string;
  private readonly externalDir: string;
  private readonly render: (input: string, profile: FrameProfile) => Promise<Buffer>;
  private readonly maxExternal: number;
  private readonly limiter: Limiter;
  private readonly names = new Set<string>();
  /** External render file names, oldest first (a Map keeps insertion order). */
  private readonly external = new Map<string, true>();
  /** Renders in progress by file path, so concurrent callers share one. */
  private readonly inFlight = new Map<string, Promise<string>>();
  private opened = false;

  constructor(private readonly options: RenderCacheOptions) {
    this.dir = join(options.root, profileKey(options.profile));
    this.externalDir = join(this.dir, EXTERNAL_DIR);
    this.render = options.render ?? renderForFrame;
    this.maxExternal = options.maxExternal ?? DEFAULT_MAX_EXTERNAL_RENDERS;
    this.limiter = new Limiter(options.concurrency ?? DEFAULT_RENDER_CONCURRENCY, 'render concurrency');
  }

  /**
   * Creates the folder, loads what is already rendered, deletes temporaries a crash left
   * behind and the folders of other profiles.
   */
  async open(): Promise<void> {
    await mkdir(this.externalDir, { recursive: true });
    this.names.clear();
    this.external.clear();

    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (entry.name.startsWith(TEMP_PREFIX)) {
        await rm(join(this.dir, entry.name), { force: true, recursive: true });
      } else if (entry.isFile() && entry.name.endsWith(RENDER_EXTENSION)) {
        this.names.add(entry.name.slice(0, -RENDER_EXTENSION.length));
      }
    }

    const externals: Array<{ file: string; mtimeMs: number }> = [];
    for (const entry of await readdir(this.externalDir, { withFileTypes: true })) {
      const path = join(this.externalDir, entry.name);
      if (entry.name.startsWith(TEMP_PREFIX)) {
        await rm(path, { force: true, recursive: true });
      } else if (entry.isFile() && entry.name.endsWith(RENDER_EXTENSION)) {
        externals.push({ file: entry.name, mtimeMs: (await stat(path)).mtimeMs });
      }
    }
    externals.sort((a, b) => a.mtimeMs - b.mtimeMs || a.file.localeCompare(b.file));
    for (const { file } of externals) this.external.set(file, true);

    const ownKey = profileKey(this.options.profile);
    const stale: string[] = [];
    for (const entry of await readdir(this.options.root, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== ownKey && PROFILE_KEY_PATTERN.test(entry.name)) {
        await rm(join(this.options.root, entry.name), { recursive: true, force: true });
        stale.push(entry.name);
      }
    }
    if (stale.length > 0) {
      this.options.logger.info('deleted renders of other frame profiles', { profiles: stale, current: ownKey });
    }
    this.opened = true;
    await this.trimExternal();
    this.options.logger.debug('render cache open', { dir: this.dir, renders: this.names.size, external: this.external.size });
  }

  /** Whether the picture's render is on disk (from memory: no file-system call). */
  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Where the picture's render is (or will be) stored. */
  pathFor(name: string): string {
    if (!PICTURE_NAME_PATTERN.test(name)) throw new Error(`not a valid picture name for a render: ${JSON.stringify(name)}`);
    return join(this.dir, `${name}${RENDER_EXTENSION}`);
  }

  /** Renders the picture unless it already is; resolves to the render's path. */
  async ensure(name: string, originalPath: string): Promise<string> {
    this.assertOpen();
    const path = this.pathFor(name);
    if (this.names.has(name)) return path;
    return this.once(path, async () => {
      await writeFileAtomic(path, await this.render(originalPath, this.options.profile));
      this.names.add(name);
    });
  }

  /**
   * A black frame-sized JPEG (quiet hours with `black_image_mode`), made once per profile.
   * Its name cannot clash with a picture's: those start with a date.
   */
  async ensureBlack(): Promise<string> {
    const path = join(this.dir, `${BLACK_FRAME}${RENDER_EXTENSION}`);
    if (this.names.has(BLACK_FRAME)) return path;
    return this.once(path, async () => {
      await writeFileAtomic(path, await renderBlackFrame(this.options.profile));
      this.names.add(BLACK_FRAME);
    });
  }

  /** Deletes the picture's render (the picture left the library). A missing file is fine. */
  async remove(name: string): Promise<void> {
    const path = this.pathFor(name);
    // A render still running would land after the delete: let it finish first.
    await this.inFlight.get(path)?.catch(() => undefined);
    this.names.delete(name);
    await unlink(path).catch(ignoreMissing);
  }

  /**
   * A render of a file we do not own (the folder provider's photos), keyed by its path,
   * size and modification time so an edited photo gets a fresh render. At most
   * `maxExternal` such renders are kept; the oldest are deleted first.
   */
  async ensureExternal(sourcePath: string): Promise<string> {
    this.assertOpen();
    const absolute = resolve(sourcePath);
    const source = await stat(absolute);
    const key = createHash('sha256')
      .update(`${absolute}\0${source.size}\0${source.mtimeMs}`)
      .digest('hex')
      .slice(0, 32);
    const file = `${key}${RENDER_EXTENSION}`;
    const path = join(this.externalDir, file);
    if (this.external.has(file)) return path;
    return this.once(path, async () => {
      await writeFileAtomic(path, await this.render(absolute, this.options.profile));
      this.external.set(file, true);
      await this.trimExternal();
    });
  }

  /**
   * A frame render kept in memory only, for when the disk takes no writes (full, read-only):
   * the frame still gets its picture. Under the same concurrency cap as the cached renders.
   */
  renderInMemory(source: string | Uint8Array): Promise<Buffer> {
    return this.limiter.run(() =>
      typeof source === 'string' ? this.render(resolve(source), this.options.profile) : renderForFrame(source, this.options.profile),
    );
  }

  /** {@link ensureBlack} without the disk: the last picture a frame can always be given. */
  blackInMemory(): Promise<Buffer> {
    return renderBlackFrame(this.options.profile);
  }

  /** Runs `make` for `path` unless a run for it is already under way, under the concurrency cap. */
  private once(path: string, make: () => Promise<void>): Promise<string> {
    const running = this.inFlight.get(path);
    if (running !== undefined) return running;
    const task = this.limiter
      .run(make)
      .then(() => path)
      .finally(() => this.inFlight.delete(path));
    this.inFlight.set(path, task);
    return task;
  }

  private async trimExternal(): Promise<void> {
    while (this.external.size > this.maxExternal) {
      const oldest = this.external.keys().next().value;
      if (oldest === undefined) break;
      this.external.delete(oldest);
      await unlink(join(this.externalDir, oldest)).catch(ignoreMissing);
    }
  }

  private assertOpen(): void {
    if (!this.opened) throw new Error('RenderCache.open() must be awaited before renders are requested');
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
