import type { GenerationProgress } from '../providers/types.js';

/** The frame's view of an operation: it only knows these three words (firmware contract). */
export type OperationStatus = 'pending' | 'done' | 'error';

/** Where the picture of a finished operation came from. */
export type PictureSource = 'library' | 'provider' | 'fallback' | 'black';

/**
 * One request of a frame for a picture, from `POST /operation/start` until it expires.
 * Normally holds no image bytes (memory stays bounded however many are started): a finished
 * operation points at a frame render on disk. Only when the disk takes no writes does it
 * keep its render (~20-40 KB) in `image`, until it expires.
 */
export interface Operation {
  readonly id: string;
  /** The `type` the client asked for. */
  readonly type: string;
  readonly createdAt: number;
  status: OperationStatus;
  updatedAt: number;
  /** The frame render to send, once done. */
  renderPath?: string;
  /** The frame render itself, when it could not be written to disk (full, read-only). */
  image?: Buffer;
  /** The library picture behind the render, when it is one of ours. */
  pictureName?: string;
  source?: PictureSource;
  /** The provider asked to make the picture, if one was. */
  providerId?: string;
  progress?: GenerationProgress;
  /** Why it failed or fell back, for logs and the status endpoint. Never a secret. */
  note?: string;
}
