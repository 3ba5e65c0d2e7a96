/** Formats kept as originals. The frame only ever gets JPEG renders of them. */
export type PictureFormat = 'jpeg' | 'png' | 'webp';

/**
 * One stored picture: the sidecar `<name>.json` beside `images/original/<name>.<ext>`.
 * Optional fields are absent when unknown (a picture imported without a sidecar).
 */
export interface PictureMeta {
  /** Unique, file-name-safe, sorts by creation time: `20261121-190743-123-offline-a1b2c3`. */
  readonly name: string;
  /** The original's file name inside `images/original/`. */
  readonly file: string;
  readonly format: PictureFormat;
  /** ISO 8601 instant the picture entered the library. */
  readonly createdAt: string;
  /** Id of the provider that made it, or `imported` for a file found without a sidecar. */
  readonly provider: string;
  /** The prompt actually sent to the provider. */
  readonly prompt?: string;
  /** The prompt template it was filled from, when it differs from `prompt`. */
  readonly template?: string;
  readonly negative?: string;
  readonly seed?: number;
  /** Pixel size of the original. */
  readonly width?: number;
  readonly height?: number;
  /** Provider-specific extras (model, steps, sampler, remote ids...). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** What a caller says about a new picture; the library fills in name, file, format, size and time. */
export type NewPictureInfo = Omit<PictureMeta, 'name' | 'file' | 'format' | 'createdAt' | 'width' | 'height'>;
