/**
 * The built-in generator: needs no network, key or model, so a fresh install shows something
 * new on the frame. It paints a scene from the prompt and seed as SVG and rasterises it with
 * sharp (whose bundled libvips includes librsvg; no text is drawn, so no fonts are needed).
 */
import sharp, { type Sharp } from 'sharp';
import type { Logger } from '../../util/logger.js';
import {
  ProviderError,
  type GenerateRequest,
  type ImageProvider,
  type ProviderCapabilities,
  type ProviderResult,
  type Readiness,
} from '../types.js';
import { buildScene, type Scene } from './scene-svg.js';

export interface OfflineProviderOptions {
  readonly id?: string;
  readonly logger: Logger;
}

/** The original the library keeps; the renderer re-encodes it for each frame. */
const JPEG_QUALITY = 92;

/** Composing the scene, rasterising it, encoding the JPEG. */
const TOTAL_STEPS = 3;
/** The preview sent with the rasterising step fits this box: a thumbnail for a progress view. */
const PREVIEW_SIZE = 96;
const PREVIEW_QUALITY = 60;

export class OfflineProvider implements ImageProvider {
  readonly id: string;
  readonly displayName = 'Built-in offline generator';
  readonly capabilities: ProviderCapabilities = {
    acceptsPrompt: true,
    acceptsNegative: false,
    paid: false,
    generates: true,
  };
  private readonly logger: Logger;

  constructor(options: OfflineProviderOptions) {
    this.id = options.id ?? 'offline';
    this.logger = options.logger;
  }

  readiness(): Readiness {
    return { ready: true };
  }

  async generate(request: GenerateRequest): Promise<ProviderResult> {
    const { signal } = request;
    signal.throwIfAborted();
    const started = performance.now();
    let scene: Scene;
    try {
      scene = buildScene(request);
    } catch (error) {
      // Only a size no picture can have gets here; asking again will not help.
      throw new ProviderError(error instanceof Error ? error.message : String(error), { cause: error });
    }
    request.onProgress?.({ step: 1, total: TOTAL_STEPS });
    // Rasterised once to raw pixels, which the preview and the JPEG are both made from: the
    // preview costs a small resize, and the JPEG's bytes equal those of a direct SVG-to-JPEG.
    const raster = await sharp(Buffer.from(scene.svg), { density: 72 }).raw().toBuffer({ resolveWithObject: true });
    signal.throwIfAborted();
    const pixels = (): Sharp => sharp(raster.data, { raw: raster.info });
    if (request.onProgress !== undefined) {
      const preview = await pixels().resize(PREVIEW_SIZE, PREVIEW_SIZE, { fit: 'inside' }).jpeg({ quality: PREVIEW_QUALITY }).toBuffer();
      request.onProgress({ step: 2, total: TOTAL_STEPS, preview: new Uint8Array(preview.buffer, preview.byteOffset, preview.byteLength) });
    }
    const bytes = await pixels().jpeg({ quality: JPEG_QUALITY }).toBuffer();
    // Encoding cannot be interrupted; an abort that came meanwhile still wins.
    signal.throwIfAborted();
    request.onProgress?.({ step: TOTAL_STEPS, total: TOTAL_STEPS });
    this.logger.debug('offline picture painted', {
      style: scene.style,
      palette: scene.palette,
      width: request.width,
      height: request.height,
      ms: Math.round(performance.now() - started),
    });
    return {
      kind: 'bytes',
      bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      details: { style: scene.style, palette: scene.palette },
    };
  }
}
