import sharp from 'sharp';

/** The box a gallery thumbnail fits inside: two columns on a phone at 2x pixel density. */
export const THUMBNAIL_SIZE = 256;
const THUMBNAIL_QUALITY = 78;

/**
 * A small JPEG of a stored picture for the web page's gallery: upright (EXIF orientation
 * applied), fitting inside {@link THUMBNAIL_SIZE} squared, never enlarged. Browsers decode
 * any JPEG, so unlike the frame's renders this one may be progressive, which also makes it
 * smaller.
 */
export async function renderThumbnail(input: string | Uint8Array): Promise<Buffer> {
  return sharp(input, { failOn: 'error' })
    .autoOrient()
    .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#000000' })
    .jpeg({ quality: THUMBNAIL_QUALITY, progressive: true, mozjpeg: true })
    .toBuffer();
}
