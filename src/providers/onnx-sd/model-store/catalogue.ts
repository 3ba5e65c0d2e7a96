import type { SchedulerName } from '../scheduler/scheduler.js';

/**
 * The models `npm run model -- pull <name>` knows by name. Each entry names a public Hugging Face
 * repository and what to fetch from it; the exact file list, sizes and sha256 values come from
 * the hub's tree API at download time (never hard-coded here, so a re-upload cannot silently
 * disagree with a stale constant). Repositories chosen from /work/shared/onnx-sd.md §1 and
 * checked against their hub file listings.
 */
export interface CatalogueEntry {
  /** Short name used on the command line, as the folder under `<data>/models` and in `providers.onnx.model`. */
  readonly name: string;
  readonly title: string;
  /** Hugging Face repository id (`owner/name`). */
  readonly repo: string;
  /** Branch, tag or commit to fetch; `pull --revision` overrides it. */
  readonly revision: string;
  /**
   * What to download: `folder/` takes every file below that folder, anything else is one
   * exact file (which must exist). Repositories that also carry PyTorch weights beside the
   * ONNX files list files one by one so those gigabytes are skipped.
   */
  readonly include: readonly string[];
  readonly recommended: { readonly steps: number; readonly guidance: number; readonly scheduler: SchedulerName };
  /** Native picture size in pixels; other sizes work but look worse. */
  readonly nativeSize: { readonly width: number; readonly height: number };
  /** Rough download size in bytes, for `list` before a pull (the tree API gives the exact figure). */
  readonly approxBytes: number;
  readonly licence: string;
  readonly notes: string;
}

const MB = 1_000_000;

export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    name: 'sd15',
    title: 'Stable Diffusion 1.5, fp32 ONNX',
    repo: 'onnx-community/stable-diffusion-v1-5-ONNX',
    revision: 'main',
    include: ['model_index.json', 'text_encoder/', 'unet/', 'vae_decoder/', 'tokenizer/', 'scheduler/'],
    recommended: { steps: 25, guidance: 7.5, scheduler: 'dpmpp_2m_karras' },
    nativeSize: { width: 512, height: 512 },
    // text encoder 493 MB + UNet graph 1 MB and weights.pb 3.44 GB + VAE decoder ~198 MB.
    approxBytes: 4_140 * MB,
    licence: 'CreativeML Open RAIL-M (use restrictions apply; see the repository page)',
    notes: 'diffusers-script layout (unet/weights.pb); slow on CPU: about 25 UNet passes with guidance doubled',
  },
  {
    name: 'lcm-dreamshaper-v7',
    title: 'LCM Dreamshaper v7, fp32 ONNX (4-step pictures)',
    repo: 'SimianLuo/LCM_Dreamshaper_v7',
    // "add-onnx (#11)": the commit that added the optimum ONNX set beside the PyTorch weights.
    revision: '4721097975058205c4edcdece2cc574b7dd7bc04',
    // The repository also holds the PyTorch weights (another 4 GB); fetch only the ONNX set.
    include: [
      'model_index.json',
      'text_encoder/model.onnx',
      'text_encoder/config.json',
      'unet/model.onnx',
      'unet/model.onnx_data',
      'unet/config.json',
      'vae_decoder/model.onnx',
      'vae_decoder/config.json',
      'tokenizer/',
      'scheduler/',
    ],
    recommended: { steps: 4, guidance: 8.5, scheduler: 'lcm' },
    nativeSize: { width: 768, height: 768 },
    // text encoder 493 MB + UNet 2 MB and model.onnx_data 3.44 GB + VAE decoder 198 MB.
    approxBytes: 4_135 * MB,
    licence: 'MIT (weights derived from Dreamshaper / SD 1.5, CreativeML Open RAIL-M)',
    notes: 'optimum export; the UNet takes timestep_cond (guidance embedding), no classifier-free batch',
  },
  {
    name: 'sd-turbo',
    title: 'SD-Turbo, fp16-weight ONNX (1-step pictures)',
    repo: 'schmuell/sd-turbo-ort-web',
    revision: 'ace89b7d2cd849f9a73914cdbb8a3ea60c853dd1',
    include: ['model_index.json', 'text_encoder/', 'unet/', 'vae_decoder/', 'tokenizer/', 'scheduler/'],
    recommended: { steps: 1, guidance: 0, scheduler: 'turbo' },
    nativeSize: { width: 512, height: 512 },
    // text encoder 681 MB + UNet 1.73 GB + VAE decoder 99 MB.
    approxBytes: 2_515 * MB,
    licence: 'Stability AI non-commercial research community licence (SD-Turbo); read it before use',
    notes: 'the export the onnxruntime web demo uses: fp16 weights with float32 inputs/outputs; no fp32 SD-Turbo ONNX set was found',
  },
];

/** The catalogue entry called `name`, or undefined. */
export function findCatalogueEntry(name: string): CatalogueEntry | undefined {
  return CATALOGUE.find((entry) => entry.name === name);
}

/** Whether repository path `path` is selected by `include` (see {@link CatalogueEntry.include}). */
export function isIncluded(include: readonly string[], path: string): boolean {
  return include.some((pattern) => (pattern.endsWith('/') ? path.startsWith(pattern) : path === pattern));
}
