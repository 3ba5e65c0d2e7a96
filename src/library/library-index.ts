import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX } from '../util/atomic-write.js';
import { detectFormat, IMAGE_EXTENSIONS, MAGIC_LENGTH } from './detect-format.js';
import { readHead, readSmallText } from './fast-read.js';
import type { PictureFormat, PictureMeta } from './picture.js';

/** Provider id given to pictures found without a usable sidecar. */
export const IMPORTED_PROVIDER = 'imported';

/** A file that looked like a picture but cannot be one. */
export interface CorruptFile {
  readonly file: string;
  readonly reason: string;
}

/** What one pass over `images/original/` found. Nothing here has touched the disk beyond reading. */
export interface ScanResult {
  /** Every usable picture, in no particular order. */
  readonly pictures: PictureMeta[];
  /** Names of pictures that had no sidecar and were adopted as `imported`. */
  readonly adopted: string[];
  /** Pictures whose sidecar could not be used (bad JSON, not an object): adopted as `imported`. */
  readonly badSidecars: string[];
  /** Image files that are empty, unreadable or not JPEG/PNG/WebP inside. */
  readonly corrupt: CorruptFile[];
  /** Files that are neither a picture nor a sidecar (and folders). */
  readonly foreign: string[];
  /** Sidecars with no picture beside them. */
  readonly orphanSidecars: string[];
  /** A second image with the same name and another extension: only the first is kept. */
  readonly duplicates: string[];
  /** Leftovers of an interrupted atomic write. */
  readonly tempFiles: string[];
}

/**
 * Scans the originals folder: one readdir, then the first bytes of every image and every
 * sidecar read with bounded concurrency, so thousands of pictures index in a fraction of a
 * second without exhausting file descriptors.
 */
export async function scanOriginals(dir: string, concurrency = 32): Promise<ScanResult> {
  const entries = await readdir(dir, { withFileTypes: true });
  const images = new Map<string, string>();
  const sidecars = new Set<string>();
  const result: ScanResult = {
    pictures: [],
    adopted: [],
    badSidecars: [],
    corrupt: [],
    foreign: [],
    orphanSidecars: [],
    duplicates: [],
    tempFiles: [],
  };

  for (const entry of entries) {
    const file = entry.name;
    if (file.startsWith(TEMP_PREFIX)) {
      result.tempFiles.push(file);
      continue;
    }
    // Symbolic links are followed: a user may link pictures in from elsewhere.
    if (!entry.isFile() && !entry.isSymbolicLink()) {
      result.foreign.push(file);
      continue;
    }
    const dot = file.lastIndexOf('.');
    const stem = dot > 0 ? file.slice(0, dot) : '';
    const extension = dot > 0 ? file.slice(dot + 1).toLowerCase() : '';
    if (IMAGE_EXTENSIONS.has(extension)) {
      if (images.has(stem)) result.duplicates.push(file);
      else images.set(stem, file);
    } else if (extension === 'json' && stem !== '') {
      sidecars.add(stem);
    } else {
      result.foreign.push(file);
    }
  }
  for (const stem of sidecars) {
    if (!images.has(stem)) result.orphanSidecars.push(`${stem}.json`);
  }

  await forEachLimited([...images], concurrency, async ([name, file]) => {
    const hasSidecar = sidecars.has(name);
    // The image's head and its sidecar are read side by side: both are small.
    const [probe, sidecar] = await Promise.all([
      probeImage(join(dir, file), !hasSidecar),
      hasSidecar ? readSidecarJson(join(dir, `${name}.json`)) : undefined,
    ]);
    if ('reason' in probe) {
      result.corrupt.push({ file, reason: probe.reason });
      return;
    }
    if (!hasSidecar) {
      result.adopted.push(name);
    } else if (sidecar === undefined) {
      result.badSidecars.push(`${name}.json`);
    }
    // The mtime dates a picture only when its sidecar cannot; stat just for those.
    const datedBySidecar = sidecar !== undefined && parseInstant(sidecar.createdAt) !== undefined;
    const mtime = probe.mtime ?? (datedBySidecar ? undefined : await mtimeOf(join(dir, file)));
    const base = { name, file, format: probe.format, mtime: mtime ?? new Date(0) };
    result.pictures.push(sidecar === undefined ? importedMeta(base) : sidecarMeta(sidecar, base));
  });
  return result;
}

interface DiskFacts {
  readonly name: string;
  readonly file: string;
  readonly format: PictureFormat;
  readonly mtime: Date;
}

type Probe = { readonly format: PictureFormat; readonly mtime?: Date } | { readonly reason: string };

/** Reads an image's magic number (and its mtime when asked): is it a picture we can serve? */
async function probeImage(path: string, withMtime: boolean): Promise<Probe> {
  let head;
  try {
    head = await readHead(path, MAGIC_LENGTH, withMtime);
  } catch (error) {
    return { reason: `cannot read: ${errorCode(error)}` };
  }
  if (head.bytes.length === 0) return { reason: 'empty file' };
  const format = detectFormat(head.bytes);
  if (format === undefined) return { reason: 'not a JPEG, PNG or WebP image' };
  return head.stats === undefined ? { format } : { format, mtime: head.stats.mtime };
}

async function mtimeOf(path: string): Promise<Date | undefined> {
  try {
    return (await stat(path)).mtime;
  } catch {
    return undefined;
  }
}

function importedMeta(base: DiskFacts): PictureMeta {
  return {
    name: base.name,
    file: base.file,
    format: base.format,
    createdAt: base.mtime.toISOString(),
    provider: IMPORTED_PROVIDER,
  };
}

/** A sidecar's JSON object, or undefined when it is unreadable or not a JSON object. */
async function readSidecarJson(path: string): Promise<Record<string, unknown> | undefined> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readSmallText(path));
  } catch {
    return undefined;
  }
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
}

/**
 * Builds a picture's metadata from its sidecar. What the disk says (name, file, format)
 * wins over what the sidecar says; known fields of the wrong type are dropped so callers
 * can trust the types; unknown fields are kept.
 */
function sidecarMeta(source: Record<string, unknown>, base: DiskFacts): PictureMeta {
  const meta: Record<string, unknown> = { ...source };
  for (const key of ['prompt', 'template', 'negative'] as const) {
    if (key in meta && typeof meta[key] !== 'string') delete meta[key];
  }
  for (const key of ['seed', 'width', 'height'] as const) {
    if (key in meta && !(typeof meta[key] === 'number' && Number.isFinite(meta[key]))) delete meta[key];
  }
  if ('details' in meta && (typeof meta.details !== 'object' || meta.details === null || Array.isArray(meta.details))) {
    delete meta.details;
  }
  const createdAt = parseInstant(source.createdAt);
  meta.createdAt = createdAt === undefined ? base.mtime.toISOString() : new Date(createdAt).toISOString();
  meta.provider = typeof source.provider === 'string' && source.provider !== '' ? source.provider : IMPORTED_PROVIDER;
  meta.name = base.name;
  meta.file = base.file;
  meta.format = base.format;
  return meta as unknown as PictureMeta;
}

/** Milliseconds of an ISO 8601 (or other Date-parsable) string; undefined for anything else. */
function parseInstant(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Runs `task` over `items` with at most `limit` running at once. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) return String(error.code);
  return error instanceof Error ? error.message : String(error);
}
