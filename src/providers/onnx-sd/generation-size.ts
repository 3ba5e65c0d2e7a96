/**
 * The picture size to generate for a frame: the frame's aspect ratio at about the model's
 * native pixel count (SD models look worst far from the size they were trained at), in
 * multiples of 64 (the UNet halves the 1/8-size latents three times). The renderer then fits
 * it to the frame exactly.
 */
const MULTIPLE = 64;

export interface Size {
  readonly width: number;
  readonly height: number;
}

function roundTo(value: number): number {
  return Math.max(MULTIPLE, Math.round(value / MULTIPLE) * MULTIPLE);
}

/** `configured` wins; one configured side gets the other from the frame's aspect ratio. */
export function generationSize(frame: Size, nativePixels: number, configured: { width?: number | undefined; height?: number | undefined } = {}): Size {
  const aspect = frame.width / frame.height;
  if (configured.width !== undefined && configured.height !== undefined) return { width: configured.width, height: configured.height };
  if (configured.width !== undefined) return { width: configured.width, height: roundTo(configured.width / aspect) };
  if (configured.height !== undefined) return { width: roundTo(configured.height * aspect), height: configured.height };
  const width = Math.sqrt(nativePixels * aspect);
  return { width: roundTo(width), height: roundTo(width / aspect) };
}
