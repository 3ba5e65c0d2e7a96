/**
 * LCM's `timestep_cond`: the guidance scale as a sinusoidal embedding, computed like
 * diffusers' `get_guidance_scale_embedding` with w = guidance − 1 (shared/onnx-sd.md §1.5;
 * diffusers.js passes the guidance itself, which is off by one).
 */
export function guidanceEmbedding(guidance: number, dimension: number): Float32Array {
  const w = (guidance - 1) * 1000;
  const half = Math.floor(dimension / 2);
  const out = new Float32Array(dimension); // an odd dimension keeps a trailing zero, as diffusers pads
  const step = Math.log(10000) / (half - 1);
  for (let k = 0; k < half; k++) {
    const angle = w * Math.exp(-k * step);
    out[k] = Math.sin(angle);
    out[half + k] = Math.cos(angle);
  }
  return out;
}
