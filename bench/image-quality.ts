/**
 * How much the frame's JPEG encoder saves against upstream's plain quality-95 encode, and
 * what it costs in fidelity. Pictures: Debian's `mate-backgrounds` "nature" set (12 photos,
 * 1280..2560 px wide), fetched with apt-get into bench/.cache/ (gitignored: images are never
 * committed). Each is rendered for a 320x480 frame with the default profile, then:
 *
 * - the unencoded render: raw RGB from the same pipeline, before any JPEG;
 * - ours: `renderForFrame`, exactly what the frame gets;
 * - q95: the same raw render encoded as upstream does (Go's image/jpeg, quality 95:
 *   4:2:0, standard tables, no trellis, no optimised Huffman tables).
 *
 * SSIM (ssim.js defaults, on luma) compares ours with the unencoded render, over the whole
 * frame and over the picture area alone: the fit `auto` pads these landscape photos with
 * black bars that are easy to encode and lift the full-frame score.
 *
 * Run: `node dist/bench/image-quality.js` (exit code 1 when a target is missed).
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { ssim } from 'ssim.js';
import type { FrameProfile } from '../src/render/frame-profile.js';
import { readJpegInfo } from '../src/render/jpeg-info.js';
import { buildFramePipeline, DEFAULT_JPEG_QUALITY, renderForFrame } from '../src/render/render-for-frame.js';

const run = promisify(execFile);

/** Targets the encoder settings are tuned to (see DEFAULT_JPEG_QUALITY). */
export const IMAGE_QUALITY_TARGETS = { maxBytesRatio: 0.45, minMeanSsim: 0.985 } as const;

const PACKAGE = 'mate-backgrounds';
const NATURE_DIR = 'usr/share/backgrounds/mate/nature';

export interface PictureFigures {
  readonly name: string;
  readonly ourBytes: number;
  readonly q95Bytes: number;
  /** ourBytes / q95Bytes. */
  readonly ratio: number;
  /** SSIM of ours against the unencoded render, whole frame. */
  readonly ssim: number;
  /** The same over the picture area only (without black padding). */
  readonly pictureSsim: number;
  readonly baseline: boolean;
}

export interface ImageQualityResult {
  /** Set when the pictures could not be fetched; nothing else is then meaningful. */
  readonly skipped?: string;
  readonly quality: number;
  readonly profile: FrameProfile;
  readonly pictures: readonly PictureFigures[];
  readonly mean: {
    readonly ourBytes: number;
    readonly q95Bytes: number;
    readonly ratio: number;
    readonly ssim: number;
    readonly pictureSsim: number;
  };
  readonly allBaseline: boolean;
  /** Both targets held and every render was baseline. */
  readonly pass: boolean;
}

export interface ImageQualityOptions {
  /** Where the package is downloaded and extracted (default: bench/.cache/ of the repository). */
  readonly cacheDir?: string;
  /** JPEG quality to measure (default DEFAULT_JPEG_QUALITY). */
  readonly quality?: number;
}

export async function runImageQualityBench(
  log: (line: string) => void = console.log,
  options: ImageQualityOptions = {},
): Promise<ImageQualityResult> {
  const quality = options.quality ?? DEFAULT_JPEG_QUALITY;
  const profile: FrameProfile = { width: 320, height: 480, fitMode: 'auto', fitThreshold: 0.03, quality };
  // The compiled file sits in dist/bench/; the cache belongs to the source tree's bench/.
  const cacheDir = options.cacheDir ?? fileURLToPath(new URL('../../bench/.cache/', import.meta.url));
  const emptyResult = { quality, profile, pictures: [], allBaseline: false, pass: false };
  const zeros = { ourBytes: 0, q95Bytes: 0, ratio: 0, ssim: 0, pictureSsim: 0 };

  let files: string[];
  try {
    files = await naturePictures(cacheDir, log);
  } catch (error) {
    const skipped = error instanceof Error ? error.message : String(error);
    log(`image quality: skipped: ${skipped}`);
    return { ...emptyResult, mean: zeros, skipped };
  }

  log(`image quality: ${files.length} pictures from ${PACKAGE} "nature", ${profile.width}x${profile.height} ${profile.fitMode} q${quality}`);
  log(`  ${'picture'.padEnd(18)} ${'ours'.padStart(7)} ${'q95'.padStart(7)} ${'ratio'.padStart(6)} ${'ssim'.padStart(7)} ${'area'.padStart(7)}  baseline`);
  const pictures: PictureFigures[] = [];
  for (const file of files) {
    const figures = await measure(file, profile);
    pictures.push(figures);
    log(formatRow(figures.name, figures));
  }

  const mean = {
    ourBytes: average(pictures.map((p) => p.ourBytes)),
    q95Bytes: average(pictures.map((p) => p.q95Bytes)),
    ratio: average(pictures.map((p) => p.ratio)),
    ssim: average(pictures.map((p) => p.ssim)),
    pictureSsim: average(pictures.map((p) => p.pictureSsim)),
  };
  const allBaseline = pictures.length > 0 && pictures.every((p) => p.baseline);
  const ratioOk = mean.ratio <= IMAGE_QUALITY_TARGETS.maxBytesRatio;
  const ssimOk = mean.ssim >= IMAGE_QUALITY_TARGETS.minMeanSsim;
  const pass = ratioOk && ssimOk && allBaseline;
  log(formatRow('mean', { ...mean, baseline: allBaseline }));
  log(
    `  targets: bytes <= ${pct(IMAGE_QUALITY_TARGETS.maxBytesRatio)} of q95 ${ratioOk ? 'ok' : 'MISSED'}, ` +
      `mean SSIM >= ${IMAGE_QUALITY_TARGETS.minMeanSsim} ${ssimOk ? 'ok' : 'MISSED'}, ` +
      `baseline ${allBaseline ? 'ok' : 'MISSED'}`,
  );
  return { quality, profile, pictures, mean, allBaseline, pass };
}

async function measure(file: string, profile: FrameProfile): Promise<PictureFigures> {
  const { data: reference, info } = await (await buildFramePipeline(file, profile))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: 3 as const };
  const ours = await renderForFrame(file, profile);
  const q95 = await sharp(reference, { raw })
    .jpeg({
      quality: 95,
      progressive: false,
      chromaSubsampling: '4:2:0',
      optimiseCoding: false,
      trellisQuantisation: false,
      overshootDeringing: false,
      quantisationTable: 0,
    })
    .toBuffer();
  const decoded = await sharp(ours).toColourspace('srgb').removeAlpha().raw().toBuffer();

  const area = pictureArea(reference, info.width, info.height);
  const name = file.slice(file.lastIndexOf('/') + 1).replace(/\.[^.]+$/, '');
  return {
    name,
    ourBytes: ours.length,
    q95Bytes: q95.length,
    ratio: ours.length / q95.length,
    ssim: ssimOf(reference, decoded, { x: 0, y: 0, width: info.width, height: info.height }, info.width),
    pictureSsim: ssimOf(reference, decoded, area, info.width),
    baseline: readJpegInfo(ours)?.baseline === true,
  };
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The bounding box of the non-black pixels: the picture without the padding `contain` adds. */
function pictureArea(rgb: Uint8Array, width: number, height: number): Box {
  let top = height;
  let bottom = -1;
  let left = width;
  let right = -1;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 3;
      if (rgb[i] !== 0 || rgb[i + 1] !== 0 || rgb[i + 2] !== 0) {
        top = Math.min(top, y);
        bottom = y;
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  if (bottom < 0) return { x: 0, y: 0, width, height };
  return { x: left, y: top, width: right - left + 1, height: bottom - top + 1 };
}

function ssimOf(reference: Uint8Array, decoded: Uint8Array, box: Box, stride: number): number {
  return ssim(toImageData(reference, box, stride), toImageData(decoded, box, stride)).mssim;
}

/** ssim.js wants RGBA, like a canvas ImageData. */
function toImageData(rgb: Uint8Array, box: Box, stride: number): { data: Uint8ClampedArray; width: number; height: number } {
  const data = new Uint8ClampedArray(box.width * box.height * 4);
  let o = 0;
  for (let y = box.y; y < box.y + box.height; y += 1) {
    for (let x = box.x; x < box.x + box.width; x += 1) {
      const i = (y * stride + x) * 3;
      data[o] = rgb[i] ?? 0;
      data[o + 1] = rgb[i + 1] ?? 0;
      data[o + 2] = rgb[i + 2] ?? 0;
      data[o + 3] = 255;
      o += 4;
    }
  }
  return { data, width: box.width, height: box.height };
}

/** The nature pictures, downloading and extracting the package on first use. */
async function naturePictures(cacheDir: string, log: (line: string) => void): Promise<string[]> {
  const extracted = join(cacheDir, PACKAGE);
  const natureDir = join(extracted, NATURE_DIR);
  let files = await listJpegs(natureDir);
  if (files.length > 0) return files;

  await mkdir(cacheDir, { recursive: true });
  let deb = await findDeb(cacheDir);
  if (deb === undefined) {
    log(`image quality: apt-get download ${PACKAGE} (about 47 MB, once)`);
    try {
      await run('apt-get', ['download', PACKAGE], { cwd: cacheDir });
    } catch (error) {
      if (isMissingCommand(error)) throw new Error('apt-get is not available on this system');
      // The package lists may be missing or stale (a fresh container): refresh once and retry.
      try {
        await run('apt-get', ['update'], { cwd: cacheDir });
        await run('apt-get', ['download', PACKAGE], { cwd: cacheDir });
      } catch (retryError) {
        throw new Error(`apt-get download ${PACKAGE} failed: ${firstLine(retryError)}`);
      }
    }
    deb = await findDeb(cacheDir);
    if (deb === undefined) throw new Error(`apt-get download ${PACKAGE} left no .deb in ${cacheDir}`);
  }
  try {
    await run('dpkg-deb', ['-x', deb, extracted]);
  } catch (error) {
    if (isMissingCommand(error)) throw new Error('dpkg-deb is not available on this system');
    throw new Error(`dpkg-deb -x ${deb} failed: ${firstLine(error)}`);
  }
  files = await listJpegs(natureDir);
  if (files.length === 0) throw new Error(`${PACKAGE} holds no pictures under ${NATURE_DIR}`);
  return files;
}

async function listJpegs(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir);
    const files = names.filter((n) => /\.(jpe?g|png|webp)$/i.test(n)).sort();
    const sized = await Promise.all(files.map(async (n) => ((await stat(join(dir, n))).size > 0 ? n : undefined)));
    return sized.filter((n): n is string => n !== undefined).map((n) => join(dir, n));
  } catch {
    return [];
  }
}

async function findDeb(dir: string): Promise<string | undefined> {
  const names = await readdir(dir);
  const deb = names.filter((n) => n.startsWith(`${PACKAGE}_`) && n.endsWith('.deb')).sort().pop();
  return deb === undefined ? undefined : join(dir, deb);
}

function isMissingCommand(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: unknown } | undefined)?.stderr;
  const text = typeof stderr === 'string' && stderr.trim() !== '' ? stderr : error instanceof Error ? error.message : String(error);
  return text.trim().split('\n')[0] ?? '';
}

function average(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length;
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function formatRow(
  name: string,
  f: { ourBytes: number; q95Bytes: number; ratio: number; ssim: number; pictureSsim: number; baseline: boolean },
): string {
  return (
    `  ${name.padEnd(18)} ${String(Math.round(f.ourBytes)).padStart(7)} ${String(Math.round(f.q95Bytes)).padStart(7)} ` +
    `${pct(f.ratio).padStart(6)} ${f.ssim.toFixed(4).padStart(7)} ${f.pictureSsim.toFixed(4).padStart(7)}  ${f.baseline ? 'yes' : 'NO'}`
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runImageQualityBench();
  if (result.skipped === undefined && !result.pass) process.exitCode = 1;
}
