import { detectFormat } from '../../library/detect-format.js';
import type { ImageLibrary } from '../../library/image-library.js';
import type { PictureMeta } from '../../library/picture.js';
import type { DayCounts } from '../../operations/generation-ledger.js';
import type { Operation } from '../../operations/operation.js';
import type { ProviderStatus } from '../../operations/provider-gate.js';
import type { PromptEntry } from '../../prompts/prompt-file.js';
import { promptVersion } from '../../prompts/prompt-store.js';
import { readPlaceholderLists } from '../../prompts/prompt-validation.js';
import type { GenerationProgress, ImageProvider } from '../../providers/types.js';
import { IMAGE_CONTENT_TYPES } from './image-response.js';

/**
 * Internal objects as the JSON API shows them (the contract the web page is written
 * against). Only what a client needs: never a path on disk, never a secret.
 */

export interface PictureJson {
  readonly name: string;
  readonly createdAt: string;
  readonly provider: string;
  readonly prompt: string | null;
  readonly template: string | null;
  readonly negative: string | null;
  readonly seed: number | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly details: Readonly<Record<string, unknown>> | null;
  readonly urls: { readonly original: string; readonly frame: string; readonly thumbnail: string };
}

export function presentPicture(meta: PictureMeta): PictureJson {
  const base = `/api/pictures/${encodeURIComponent(meta.name)}`;
  return {
    name: meta.name,
    createdAt: meta.createdAt,
    provider: meta.provider,
    prompt: meta.prompt ?? null,
    template: meta.template ?? null,
    negative: meta.negative ?? null,
    seed: meta.seed ?? null,
    width: meta.width ?? null,
    height: meta.height ?? null,
    details: meta.details ?? null,
    urls: { original: `${base}/original`, frame: `${base}/frame`, thumbnail: `${base}/thumbnail` },
  };
}

export interface PromptJson {
  /** The prompt's `idx` in prompts.json: 1..N, oldest first; it shifts when an earlier one is deleted. */
  readonly id: number;
  readonly prompt: string;
  readonly negative: string | null;
  /** The prompt's own lists for its `[[name]]` placeholders, when it has any. */
  readonly placeholders: Readonly<Record<string, readonly string[]>> | null;
  /** A short hash of the content: sent back in If-Match so a stale id cannot hit another prompt. */
  readonly version: string;
}

export function presentPrompt(entry: PromptEntry): PromptJson {
  const { lists } = readPlaceholderLists(entry.placeholders, 'placeholders');
  return {
    id: entry.idx,
    prompt: entry.prompt,
    negative: entry.negative === '' ? null : entry.negative,
    placeholders: Object.keys(lists).length > 0 ? lists : null,
    version: promptVersion(entry),
  };
}

export interface ProgressJson {
  readonly step: number;
  readonly total: number;
  /** A `data:` URL of the provider's preview image, when it sent one. */
  readonly preview?: string;
}

/** Progress for the event stream; the preview (kept only while a generation runs) as a `data:` URL. */
export function presentProgress(progress: GenerationProgress): ProgressJson {
  const preview = progress.preview === undefined ? undefined : previewUrl(progress.preview);
  return { step: progress.step, total: progress.total, ...(preview === undefined ? {} : { preview }) };
}

function previewUrl(bytes: Uint8Array): string | undefined {
  const format = detectFormat(bytes);
  if (format === undefined) return undefined; // not an image a browser is promised
  return `data:${IMAGE_CONTENT_TYPES[format]};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

export type GenerationStatus = 'pending' | 'done' | 'error';

export interface GenerationJson {
  readonly id: string;
  /**
   * `error` when no new picture came of it: the operation failed, or the generation failed
   * and a stored picture stood in (`source: "fallback"`, the reason in `note`).
   */
  readonly status: GenerationStatus;
  readonly type: string;
  readonly provider: string | null;
  readonly progress: { readonly step: number; readonly total: number } | null;
  readonly source: 'provider' | 'library' | 'fallback' | 'black' | null;
  readonly note: string | null;
  readonly picture: PictureJson | null;
  readonly createdAt: string;
}

export function generationStatus(operation: Operation): GenerationStatus {
  if (operation.status === 'done' && operation.source === 'fallback') return 'error';
  return operation.status;
}

export function presentGeneration(operation: Operation, library: Pick<ImageLibrary, 'get'>): GenerationJson {
  const picture = operation.pictureName === undefined ? undefined : library.get(operation.pictureName);
  return {
    id: operation.id,
    status: generationStatus(operation),
    type: operation.type,
    provider: operation.providerId ?? null,
    progress: operation.progress === undefined ? null : { step: operation.progress.step, total: operation.progress.total },
    source: operation.source ?? null,
    note: operation.note ?? null,
    picture: picture === undefined ? null : presentPicture(picture),
    createdAt: new Date(operation.createdAt).toISOString(),
  };
}

export interface ProviderJson {
  readonly id: string;
  readonly name: string;
  readonly ready: boolean;
  readonly reason: string | null;
  readonly paid: boolean;
  readonly generates: boolean;
  readonly acceptsPrompt: boolean;
  readonly nextAllowedAt: string | null;
  readonly today: { readonly calls: number; readonly successes: number; readonly failures: number; readonly limit: number | null };
}

export function presentProvider(provider: ImageProvider, status: ProviderStatus, today: DayCounts): ProviderJson {
  return {
    id: provider.id,
    name: provider.displayName,
    ready: status.ready,
    reason: status.reason ?? null,
    paid: provider.capabilities.paid,
    generates: provider.capabilities.generates,
    acceptsPrompt: provider.capabilities.acceptsPrompt,
    nextAllowedAt: status.nextAllowedAt?.toISOString() ?? null,
    today: { calls: today.calls, successes: today.successes, failures: today.failures, limit: status.dailyLimit ?? null },
  };
}
