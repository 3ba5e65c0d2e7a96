import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { SerialQueue } from '../util/serial-queue.js';
import { describeHead, detectFormat, extensionFor } from './detect-format.js';
import { forEachLimited, scanOriginals, type ScanResult } from './library-index.js';
import type { NewPictureInfo, PictureFormat, PictureMeta } from './picture.js';
import { pictureName, randomSuffix } from './picture-name.js';

export interface ImageLibraryOptions {
  /** The images folder; originals live in `<root>/original`. */
  readonly root: string;
  /** Pruning target: how many pictures are kept once pruning starts. */
  readonly minCount: number;
  /** Pruning trigger: pruning starts when the count goes past this. */
  readonly maxCount: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** `[0, 1)` source for {@link ImageLibrary.pickRandom}; tests pin it. */
  readonly random?: () => number;
  /** Files read at once while indexing. */
  readonly indexConcurrency?: number;
}

/** Called with the name of every picture that left the library (removed, pruned, or gone from disk). */
export type RemovedListener = (name: string) => void;

/** What {@link ImageLibrary.reindex} changed. */
export interface ReindexResult {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** How many names of skipped files a summary log line carries. */
const NAMES_IN_LOG = 5;

/**
 * The originals: every picture as received, with a `<name>.json` sidecar beside it, kept
 * in memory as an index sorted newest first. Mutations (add, remove, prune, reindex) run
 * one at a time, so the index and the disk never disagree about what a caller just did.
 */
export class ImageLibrary {
  /** `<root>/original`. */
  readonly originalDir: string;
  private readonly minCount: number;
  private readonly maxCount: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly indexConcurrency: number;
  private readonly queue = new SerialQueue();
  private readonly listeners = new Set<RemovedListener>();
  private byName = new Map<string, PictureMeta>();
  /** Newest first; replaced, never mutated, so a list handed out stays valid. */
  private ordered: readonly PictureMeta[] = Object.freeze([]);
  /** The problems last logged, so an hourly reindex does not repeat the same warnings. */
  private lastProblems = '';

  constructor(options: ImageLibraryOptions) {
    const { minCount, maxCount } = options;
    if (!Number.isInteger(minCount) || minCount < 0) {
      throw new RangeError(`library: minCount must be a whole number >= 0, got ${minCount}`);
    }
    if (!Number.isInteger(maxCount) || maxCount < minCount) {
      throw new RangeError(`library: maxCount must be a whole number >= minCount (${minCount}), got ${maxCount}`);
    }
    this.originalDir = join(options.root, 'original');
    this.minCount = minCount;
    this.maxCount = maxCount;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.indexConcurrency = options.indexConcurrency ?? 32;
  }

  /** Creates the originals folder if needed, removes stale temporaries, and indexes it. */
  open(): Promise<void> {
    return this.queue.run(async () => {
      await mkdir(this.originalDir, { recursive: true });
      const started = performance.now();
      const scan = await scanOriginals(this.originalDir, this.indexConcurrency);
      await this.removeTempFiles(scan.tempFiles);
      this.replaceIndex(scan.pictures);
      this.logScanProblems(scan);
      this.logger.info('library: indexed pictures', {
        count: this.ordered.length,
        adopted: scan.adopted.length,
        ms: Math.round(performance.now() - started),
        dir: this.originalDir,
      });
    });
  }

  /**
   * Rescans the disk and replaces the index: pictures added or deleted by hand are picked
   * up, and listeners hear about the ones that vanished. Temporaries are left alone here:
   * unlike at start-up, one may belong to a write in progress elsewhere.
   */
  reindex(): Promise<ReindexResult> {
    return this.queue.run(async () => {
      await mkdir(this.originalDir, { recursive: true });
      const scan = await scanOriginals(this.originalDir, this.indexConcurrency);
      const before = this.byName;
      this.replaceIndex(scan.pictures);
      const added = scan.pictures.map((p) => p.name).filter((name) => !before.has(name));
      const removed = [...before.keys()].filter((name) => !this.byName.has(name));
      this.logScanProblems(scan);
      if (added.length > 0 || removed.length > 0) {
        this.logger.info('library: reindexed', { count: this.ordered.length, added: added.length, removed: removed.length });
      }
      for (const name of removed) this.notifyRemoved(name);
      return { added, removed };
    });
  }

  get size(): number {
    return this.ordered.length;
  }

  /** Every picture, newest first. The array is a snapshot: later changes make a new one. */
  list(): readonly PictureMeta[] {
    return this.ordered;
  }

  get(name: string): PictureMeta | undefined {
    return this.byName.get(name);
  }

  newest(): PictureMeta | undefined {
    return this.ordered[0];
  }

  /**
   * Where the original of a picture is on disk. Callers hold a name they just got from the
   * library, so an unknown name is a programming error: it throws rather than return a
   * path that cannot exist.
   */
  originalPath(name: string): string {
    const meta = this.byName.get(name);
    if (meta === undefined) throw new Error(`library: no picture named ${JSON.stringify(name)}`);
    return join(this.originalDir, meta.file);
  }

  /**
   * Stores a new original. The image is written before its sidecar, each atomically, so a
   * sidecar never points at a missing file (a crash in between leaves an image that the
   * next start adopts as imported). Prunes afterwards when the count passed maxCount.
   */
  async add(bytes: Uint8Array, info: NewPictureInfo): Promise<PictureMeta> {
    const format = detectFormat(bytes);
    if (format === undefined) {
      const head = bytes.length === 0 ? 'empty input' : `first bytes ${describeHead(bytes)}`;
      throw new Error(`library: unsupported image format (${head}); expected JPEG, PNG or WebP`);
    }
    const { width, height } = await readSize(bytes, format);

    return this.queue.run(async () => {
      const at = this.clock.now();
      let name = pictureName(at, info.provider, randomSuffix());
      while (this.byName.has(name)) name = pictureName(at, info.provider, randomSuffix());
      const file = `${name}.${extensionFor(format)}`;
      const meta: PictureMeta = Object.freeze({
        ...withoutUndefined(info),
        name,
        file,
        format,
        createdAt: at.toISOString(),
        width,
        height,
      });

      const imagePath = join(this.originalDir, file);
      await writeFileAtomic(imagePath, bytes);
      try {
        await writeJsonAtomic(join(this.originalDir, `${name}.json`), meta);
      } catch (error) {
        // Without its sidecar the image would come back as `imported`: undo it instead.
        await unlink(imagePath).catch(() => undefined);
        throw error;
      }
      this.replaceIndex([...this.ordered, meta]);
      this.logger.info('library: added picture', { name, provider: meta.provider, width, height });
      await this.pruneNow();
      return meta;
    });
  }

  /**
   * When the count is over maxCount, deletes the oldest pictures down to minCount
   * (upstream ImageServer's rule: max triggers, min is the target). Returns removed names.
   */
  prune(): Promise<string[]> {
    return this.queue.run(() => this.pruneNow());
  }

  /** Deletes one picture (image and sidecar). Returns false for an unknown name. */
  remove(name: string): Promise<boolean> {
    return this.queue.run(async () => {
      const meta = this.byName.get(name);
      if (meta === undefined) return false;
      await this.deleteFiles(meta);
      this.replaceIndex(this.ordered.filter((p) => p.name !== name));
      this.logger.info('library: removed picture', { name });
      this.notifyRemoved(name);
      return true;
    });
  }

  /** Subscribes to removals (the render cache drops renders of deleted pictures). Returns an unsubscribe. */
  onRemoved(listener: RemovedListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * A uniformly random picture not in `exclude` (say, the ones a frame showed recently).
   * When every picture is excluded any picture will do: the frame must get something.
   */
  pickRandom(exclude?: ReadonlySet<string>): PictureMeta | undefined {
    const all = this.ordered;
    if (all.length === 0) return undefined;
    const draw = (pool: readonly PictureMeta[]): PictureMeta | undefined =>
      pool[Math.max(0, Math.min(pool.length - 1, Math.floor(this.random() * pool.length)))];
    if (exclude === undefined || exclude.size === 0) return draw(all);
    // This runs on every frame request: when few pictures are excluded (the usual case, a
    // handful of recent ones among thousands), draw and redraw instead of filtering them all.
    if (exclude.size * 4 < all.length) {
      for (let attempt = 0; attempt < 16; attempt += 1) {
        const picture = draw(all);
        if (picture && !exclude.has(picture.name)) return picture;
      }
    }
    const candidates = all.filter((p) => !exclude.has(p.name));
    return draw(candidates.length > 0 ? candidates : all);
  }

  private async pruneNow(): Promise<string[]> {
    if (this.ordered.length <= this.maxCount) return [];
    const victims = this.ordered.slice(this.minCount);
    const removed = new Set<string>();
    await forEachLimited(victims, 8, async (meta) => {
      try {
        await this.deleteFiles(meta);
        removed.add(meta.name);
      } catch (error) {
        this.logger.error('library: could not delete a pruned picture', { name: meta.name, error: String(error) });
      }
    });
    this.replaceIndex(this.ordered.filter((p) => !removed.has(p.name)));
    this.logger.info('library: pruned pictures', {
      removed: removed.size,
      count: this.ordered.length,
      minCount: this.minCount,
      maxCount: this.maxCount,
    });
    const names = victims.map((p) => p.name).filter((name) => removed.has(name));
    for (const name of names) this.notifyRemoved(name);
    return names;
  }

  /** Image first, then sidecar: a crash in between leaves an orphan sidecar (skipped), never a resurrected picture. */
  private async deleteFiles(meta: PictureMeta): Promise<void> {
    await unlinkIfPresent(join(this.originalDir, meta.file));
    await unlinkIfPresent(join(this.originalDir, `${meta.name}.json`));
  }

  private replaceIndex(pictures: readonly PictureMeta[]): void {
    const keyed = pictures.map((meta) => ({ meta: Object.freeze(meta), at: Date.parse(meta.createdAt) }));
    // Newest first; names sort by creation time too, so they break ties the same way.
    keyed.sort((a, b) => b.at - a.at || (a.meta.name < b.meta.name ? 1 : a.meta.name > b.meta.name ? -1 : 0));
    this.ordered = Object.freeze(keyed.map((k) => k.meta));
    this.byName = new Map(this.ordered.map((meta) => [meta.name, meta]));
  }

  private notifyRemoved(name: string): void {
    for (const listener of this.listeners) {
      try {
        listener(name);
      } catch (error) {
        this.logger.error('library: a removal listener failed', { name, error: String(error) });
      }
    }
  }

  private async removeTempFiles(files: readonly string[]): Promise<void> {
    if (files.length === 0) return;
    await forEachLimited(files, 8, (file) => unlinkIfPresent(join(this.originalDir, file)).catch(() => undefined));
    this.logger.info('library: removed stale temporary files', { count: files.length });
  }

  /** One line per kind of problem, with a count and the first few names: never a line per file. */
  private logScanProblems(scan: ScanResult): void {
    const corrupt = scan.corrupt.map((c) => c.file);
    const key = JSON.stringify(
      [corrupt, scan.badSidecars, scan.orphanSidecars, scan.duplicates, scan.foreign].map((names) => [...names].sort()),
    );
    if (key === this.lastProblems) return;
    this.lastProblems = key;
    const report = (message: string, names: readonly string[], level: 'warn' | 'error' = 'warn'): void => {
      if (names.length === 0) return;
      this.logger[level](message, { count: names.length, first: names.slice(0, NAMES_IN_LOG), dir: this.originalDir });
    };
    report('library: skipped corrupt images (left on disk)', scan.corrupt.map((c) => `${c.file} (${c.reason})`), 'error');
    report('library: sidecars with bad JSON; pictures treated as imported', scan.badSidecars);
    report('library: skipped sidecars without an image', scan.orphanSidecars);
    report('library: skipped images with a duplicate name', scan.duplicates);
    report('library: skipped files that are not pictures', scan.foreign);
    if (scan.adopted.length > 0) {
      this.logger.debug('library: adopted pictures without a sidecar', {
        count: scan.adopted.length,
        first: scan.adopted.slice(0, NAMES_IN_LOG),
      });
    }
  }
}

/** Width and height as displayed (EXIF orientation applied), read without decoding pixels. */
async function readSize(bytes: Uint8Array, format: PictureFormat): Promise<{ width: number; height: number }> {
  try {
    const metadata = await sharp(bytes).metadata();
    return { width: metadata.autoOrient.width, height: metadata.autoOrient.height };
  } catch (error) {
    throw new Error(`library: cannot read the ${format} image: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
