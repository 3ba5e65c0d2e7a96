/**
 * Which `size` each OpenAI image model accepts, and how long a prompt it reads
 * (openai-python `types/image_generate_params.py`; ../shared/provider-apis.md §5.1).
 */
import { sizeForFrame } from '../remote-size.js';

export type ModelFamily = 'dall-e-2' | 'dall-e-3' | 'gpt-image' | 'gpt-image-free' | 'other';

const LISTED_SIZES: Readonly<Record<'dall-e-2' | 'dall-e-3' | 'gpt-image', readonly string[]>> = {
  'dall-e-2': ['256x256', '512x512', '1024x1024'],
  'dall-e-3': ['1024x1024', '1792x1024', '1024x1792'],
  'gpt-image': ['1024x1024', '1536x1024', '1024x1536'],
};

const PROMPT_LIMITS: Readonly<Record<ModelFamily, number | undefined>> = {
  'dall-e-2': 1000,
  'dall-e-3': 4000,
  'gpt-image': 32_000,
  'gpt-image-free': 32_000,
  other: undefined,
};

export function modelFamily(model: string): ModelFamily {
  const name = model.toLowerCase();
  if (name === 'dall-e-2') return 'dall-e-2';
  if (name === 'dall-e-3') return 'dall-e-3';
  // gpt-image-2 takes any size within limits; gpt-image-1, -1-mini and -1.5 take three.
  if (/^gpt-image-2(\b|[-.])/.test(name)) return 'gpt-image-free';
  if (name.startsWith('gpt-image')) return 'gpt-image';
  return 'other';
}

/** The sizes a model takes from a fixed list; undefined when it takes free sizes (or is not known). */
export function listedSizes(family: ModelFamily): readonly string[] | undefined {
  return family === 'dall-e-2' || family === 'dall-e-3' || family === 'gpt-image' ? LISTED_SIZES[family] : undefined;
}

export function promptLimit(family: ModelFamily): number | undefined {
  return PROMPT_LIMITS[family];
}

export function parseSize(text: string): { width: number; height: number } | undefined {
  const match = /^\s*(\d+)\s*x\s*(\d+)\s*$/i.exec(text);
  if (!match) return undefined;
  const width = Number(match[1]);
  const height = Number(match[2]);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/**
 * The listed size nearest the frame's shape (compared on the log of the ratio). Among equal
 * shapes the smallest that still has the frame's pixel count wins: dall-e-2's 512x512 is
 * plenty for a 320x480 screen and costs less than 1024x1024.
 */
export function nearestListedSize(frameWidth: number, frameHeight: number, sizes: readonly string[]): string {
  const target = Math.log(frameWidth / frameHeight);
  const framePixels = frameWidth * frameHeight;
  const candidates = sizes
    .map((text) => ({ text, size: parseSize(text) }))
    .filter((entry): entry is { text: string; size: { width: number; height: number } } => entry.size !== undefined)
    .map((entry) => ({ ...entry, distance: Math.abs(Math.log(entry.size.width / entry.size.height) - target), area: entry.size.width * entry.size.height }));
  const best = Math.min(...candidates.map((entry) => entry.distance));
  const nearest = candidates.filter((entry) => entry.distance <= best + 1e-9).sort((a, b) => a.area - b.area);
  const chosen = nearest.find((entry) => entry.area >= framePixels) ?? nearest[nearest.length - 1];
  if (!chosen) throw new RangeError('no size to choose from');
  return chosen.text;
}

/**
 * gpt-image-2's rule: sides in multiples of 16, ratio within 1:3..3:1, at most 3840x2160
 * (either way round). The frame's shape is clamped into that range.
 */
export function freeGptImageSize(frameWidth: number, frameHeight: number, targetPixels: number): { width: number; height: number } {
  const ratio = Math.min(3, Math.max(1 / 3, frameWidth / frameHeight));
  const size = sizeForFrame(ratio * 1000, 1000, targetPixels, 16);
  const long = Math.max(size.width, size.height);
  const short = Math.min(size.width, size.height);
  const scale = Math.min(1, 3840 / long, 2160 / short);
  if (scale >= 1) return size;
  return { width: Math.max(16, Math.floor((size.width * scale) / 16) * 16), height: Math.max(16, Math.floor((size.height * scale) / 16) * 16) };
}
