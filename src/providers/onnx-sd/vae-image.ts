/**
 * The VAE decoder's output [1, 3, H, W] in about [-1, 1] as interleaved RGB bytes, exactly as
 * diffusers does it: clamp(x/2 + 0.5, 0, 1), then round(v·255) (shared/onnx-sd.md §2.4).
 */
export function vaeOutputToRgb(planes: Float32Array, width: number, height: number): Uint8Array {
  const size = width * height;
  if (planes.length < size * 3) throw new Error(`VAE output has ${planes.length} values; expected ${size * 3} for ${width}x${height}`);
  const rgb = new Uint8Array(size * 3);
  for (let channel = 0; channel < 3; channel++) {
    const offset = channel * size;
    for (let i = 0; i < size; i++) {
      const v = planes[offset + i]! / 2 + 0.5;
      // NaN becomes black rather than garbage (the pipeline refuses it before: output-checks.ts).
      rgb[i * 3 + channel] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
    }
  }
  return rgb;
}
