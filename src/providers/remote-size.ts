/**
 * The size to ask a remote generator for, given the frame's. Generators work best near the
 * pixel count their model was trained at (about 512×512 for SD 1.5, 1024×1024 for SDXL) and
 * need sides that are multiples of 8 (the latent grid), better 64; the frame's own 320×480 is
 * too small for them. So the frame's aspect ratio is kept and scaled to about `targetPixels`,
 * and the renderer fits the result to the frame as it fits any stored picture.
 */
export function sizeForFrame(frameWidth: number, frameHeight: number, targetPixels: number, multiple = 64): { width: number; height: number } {
  if (!(frameWidth > 0 && frameHeight > 0)) throw new RangeError(`the frame size ${frameWidth}x${frameHeight} is not a size`);
  if (!(targetPixels > 0)) throw new RangeError(`the target of ${targetPixels} pixels is not a size`);
  if (!(Number.isInteger(multiple) && multiple > 0)) throw new RangeError(`the multiple ${multiple} is not a positive whole number`);
  const aspect = frameWidth / frameHeight;
  const width = Math.sqrt(targetPixels * aspect);
  const height = width / aspect;
  return { width: toMultiple(width, multiple), height: toMultiple(height, multiple) };
}

/** The nearest multiple, never less than one of them (a very thin frame still gets a size). */
function toMultiple(value: number, multiple: number): number {
  return Math.max(multiple, Math.round(value / multiple) * multiple);
}

/**
 * The pixel count for a `size` option: the side of a square with as many pixels. 640 gives
 * 512×768 for a 2:3 frame, a shape SD 1.5 handles well; SDXL users set 1024.
 */
export function pixelsForSize(size: number): number {
  return size * size;
}
