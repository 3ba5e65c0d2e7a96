import sharp, { type Sharp } from 'sharp';
import type { FrameProfile } from './frame-profile.js';
import { readJpegInfo } from './jpeg-info.js';

/**
 * The JPEG quality frames get unless the configuration says otherwise. Chosen with
 * `bench/image-quality.ts` (Debian's mate-backgrounds "nature" set, 320x480 frame, fit
 * `auto`) against upstream's plain quality-95 encode; targets: at most 45% of its bytes and
 * a mean SSIM of at least 0.985 against the unencoded render.
 *
 * Curve with the settings of {@link encodeFrameJpeg} (bytes vs q95, SSIM full frame / picture
 * area without the black bars): q75 38.7% .9904/.9820, q78 41.8% .9914/.9840,
 * q80 43.5% .9920/.9851, q82 46.1% .9927/.9865, q85 50.4% .9938/.9884.
 * 80 is the highest that keeps a margin under 45%, and it also holds 0.985 on the picture
 * area alone (the black bars of padded renders flatter the full-frame SSIM).
 */
export const DEFAULT_JPEG_QUALITY = 80;

/**
 * The JPEG Annex K table (libjpeg's standard). At equal bytes it gave a slightly higher SSIM
 * than mozjpeg's own default (3, PSNR-HVS-M tuned) and the SSIM-tuned table 2: at q80,
 * table 0 43.5% / .9851 picture-area SSIM against table 3 at q82 44.6% / .9843. The flat
 * tables (1, 7, 8) score higher on SSIM per byte only by keeping high frequencies the eye
 * does not miss, so they were not considered.
 */
const QUANTISATION_TABLE = 0;

const BLACK = { r: 0, g: 0, b: 0, alpha: 1 } as const;

/**
 * The one place that owns the frame's JPEG encoder settings.
 *
 * The frame's decoder takes baseline JPEG only (firmware contract), so everything here
 * must keep SOF0: `progressive: false`, and never `mozjpeg: true` or `optimiseScans`, both
 * of which switch libjpeg to progressive scans. What remains of mozjpeg's tools stays
 * baseline and makes the file smaller at the same quality: trellis quantisation, overshoot
 * deringing, optimised Huffman tables and a chosen quantisation table. On the benchmark at
 * q80, optimised Huffman tables save 8% of the bytes at no loss, trellis quantisation another
 * 8% (about 2% at equal SSIM). 4:2:0 is what every TJpgDec build supports and halves the
 * chroma data.
 */
export async function encodeFrameJpeg(image: Sharp, quality: number): Promise<Buffer> {
  return image
    .jpeg({
      quality,
      progressive: false,
      chromaSubsampling: '4:2:0',
      trellisQuantisation: true,
      overshootDeringing: true,
      optimiseCoding: true,
      optimiseScans: false,
      quantisationTable: QUANTISATION_TABLE,
      mozjpeg: false,
    })
    .toBuffer();
}

/**
 * Upstream ImageServer's rule for `auto` (src/internal/pkg/imageprocessor/ipr.go):
 * `diff = |srcRatio - frameRatio| / min(srcRatio, frameRatio)`; stretch when
 * `diff <= fitThreshold`, otherwise fit inside and pad with black, centred.
 */
export function autoStretches(
  source: { width: number; height: number },
  frame: { width: number; height: number },
  fitThreshold: number,
): boolean {
  const sourceRatio = source.width / source.height;
  const frameRatio = frame.width / frame.height;
  const diff = Math.abs(sourceRatio - frameRatio) / Math.min(sourceRatio, frameRatio);
  return diff <= fitThreshold;
}

/**
 * The render before encoding: oriented, fitted to exactly the frame's size, alpha
 * flattened onto black, sRGB. `renderForFrame` encodes this; the image-quality bench
 * reads its raw pixels to measure what the encoder loses.
 */
export async function buildFramePipeline(input: Uint8Array | string, profile: FrameProfile): Promise<Sharp> {
  // sharp's default failOn 'warning' rejects truncated or damaged files: better another
  // picture than half a grey one on the wall.
  const image = sharp(input);
  const fit = await chooseFit(image, profile);
  return (
    image
      // No angle: apply the EXIF orientation (phone photos) and drop the tag.
      .rotate()
      .flatten({ background: BLACK })
      .resize(profile.width, profile.height, {
        fit,
        // 'attention' keeps the most salient region (colour, skin, detail) when cropping:
        // generated pictures are often square or landscape while the frame is portrait,
        // and a centre crop of those keeps a third of the width, often missing the subject.
        position: fit === 'cover' ? 'attention' : 'centre',
        background: BLACK,
        kernel: 'lanczos3',
      })
      // Renders carry no EXIF or ICC profile (sharp strips metadata unless asked to keep
      // it); the pixels are converted to sRGB first, which is what the TFT shows.
      .toColourspace('srgb')
  );
}

async function chooseFit(image: Sharp, profile: FrameProfile): Promise<'fill' | 'contain' | 'cover'> {
  switch (profile.fitMode) {
    case 'stretch':
      return 'fill';
    case 'contain':
      return 'contain';
    case 'cover':
      return 'cover';
    case 'auto': {
      const metadata = await image.metadata();
      // autoOrient gives the size after the EXIF rotation: a portrait phone photo stored
      // landscape must be compared as portrait.
      const source = metadata.autoOrient ?? metadata;
      // Unlike upstream's imaging.Fit we also enlarge small pictures when padding, so a
      // small picture fills the width or the height instead of floating in black.
      return autoStretches(source, profile, profile.fitThreshold) ? 'fill' : 'contain';
    }
  }
}

/**
 * Renders a picture (JPEG, PNG, WebP, ... bytes or a file path) for the frame: a baseline
 * JPEG of exactly `profile.width` x `profile.height`. Rejects with a clear Error when the
 * input cannot be decoded.
 */
export async function renderForFrame(input: Uint8Array | string, profile: FrameProfile): Promise<Buffer> {
  let jpeg: Buffer;
  try {
    jpeg = await encodeFrameJpeg(await buildFramePipeline(input, profile), profile.quality);
  } catch (error) {
    const what = typeof input === 'string' ? `picture ${input}` : `picture (${input.byteLength} bytes)`;
    throw new Error(`cannot render ${what} for the frame: ${messageOf(error)}`, { cause: error });
  }
  assertFrameDecodable(jpeg, profile);
  return jpeg;
}

/** An all-black frame (quiet hours): the device shows black instead of the last picture. */
export async function renderBlackFrame(profile: FrameProfile): Promise<Buffer> {
  const black = sharp({ create: { width: profile.width, height: profile.height, channels: 3, background: BLACK } });
  const jpeg = await encodeFrameJpeg(black, profile.quality);
  assertFrameDecodable(jpeg, profile);
  return jpeg;
}

/**
 * A guard on every render: the device shows garbage or nothing for anything but a
 * baseline JPEG of its exact size, so a library upgrade that changed the encoder's
 * defaults must fail loudly here rather than on the wall.
 */
function assertFrameDecodable(jpeg: Uint8Array, profile: FrameProfile): void {
  const info = readJpegInfo(jpeg);
  if (info === undefined || !info.baseline || info.width !== profile.width || info.height !== profile.height) {
    const got = info === undefined ? 'not a JPEG' : `SOF${info.sof} ${info.width}x${info.height}`;
    throw new Error(
      `frame render is not a baseline ${profile.width}x${profile.height} JPEG (${got}): check encodeFrameJpeg`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Process-wide sharp settings for the server. libvips' operation cache (50 MB by default)
 * helps programs that render the same input repeatedly; the server renders each picture
 * once and keeps the result on disk, so the cache only adds resident memory.
 */
export function configureSharpForServer(): void {
  sharp.cache(false);
}
