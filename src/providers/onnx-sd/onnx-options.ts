/**
 * `providers.onnx` in options.yml: which local model to run and how. Everything but `model`
 * has a default taken from the model (its catalogue entry or its scheduler config).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { remoteSectionSchema } from '../http/remote-options.js';
import { parseSection, type ProviderContext } from '../registry.js';
import { resolveModelDir } from './model-store/model-layout.js';
import { OnnxProvider } from './onnx-provider.js';
import { parseSchedulerName, SCHEDULER_NAMES } from './scheduler/index.js';

const MAX_SEED = 2 ** 32 - 1;

/** Multiples of 64: Stable Diffusion UNets need latent sides (pixels / 8) in multiples of 8. */
const pixels = (what: string) =>
  z
    .number({ error: `expected the ${what} in pixels, a multiple of 64 such as 512` })
    .int({ error: `expected the ${what} in pixels, a multiple of 64 such as 512` })
    .min(64, { error: `expected a ${what} of at least 64 pixels` })
    .max(2048, { error: `expected a ${what} of at most 2048 pixels` })
    .refine((value) => value % 64 === 0, { error: `expected a ${what} that is a multiple of 64 such as 448, 512 or 768 (the model's UNet needs it)` })
    .optional();

export const onnxOptionsSchema = remoteSectionSchema({
  /** A catalogue name (`npm run model -- list`), a folder name under <data>/models, or a path. */
  model: z
    .string({ error: 'expected a model name such as sd-turbo (npm run model -- list), or the path of an ONNX export folder' })
    .min(1, { error: 'expected a model name such as sd-turbo, or the path of an ONNX export folder' }),
  steps: z.number({ error: 'expected a whole number of steps' }).int({ error: 'expected a whole number of steps' }).min(1).max(1000).optional(),
  /** Classifier-free guidance scale; 0 or 1 = no guidance (Turbo). */
  guidance: z.number({ error: 'expected a number such as 7.5' }).min(0).max(30).optional(),
  scheduler: z
    .string({ error: `expected a scheduler name: ${SCHEDULER_NAMES.join(', ')}` })
    .transform((text, context) => {
      const name = parseSchedulerName(text);
      if (name === undefined) {
        context.addIssue({ code: 'custom', message: `unknown scheduler "${text}"; expected one of ${SCHEDULER_NAMES.join(', ')} (or an A1111/ComfyUI/diffusers name for them)` });
        return z.NEVER;
      }
      return name;
    })
    .optional(),
  /** `random`: the seed the frame server picked for this picture (recorded with it); a number: always that one. */
  seed: z
    .union([z.literal('random'), z.number().int().min(0).max(MAX_SEED)], { error: `expected random or a whole number from 0 to ${MAX_SEED}` })
    .default('random'),
  width: pixels('width'),
  height: pixels('height'),
  /** onnxruntime's intra-op threads; its default is one per physical core. */
  threads: z.number({ error: 'expected a whole number of threads' }).int({ error: 'expected a whole number of threads' }).min(1).max(256).optional(),
  execution_provider: z.enum(['cpu', 'cuda'], { error: 'expected cpu or cuda' }).default('cpu'),
  graph_optimization: z.enum(['disabled', 'basic', 'extended', 'all'], { error: 'expected disabled, basic, extended or all' }).default('all'),
});

export type OnnxOptions = z.output<typeof onnxOptionsSchema>;

/** The factory behind `providers.onnx`. Models live in <data>/models/<name>/. */
export function createOnnxProvider(section: Readonly<Record<string, unknown>>, context: ProviderContext): OnnxProvider {
  const options = parseSection(onnxOptionsSchema, section, 'onnx', context.config.optionsFile);
  const modelsDir = join(context.config.paths.dataDir, 'models');
  return new OnnxProvider({ options, modelDir: resolveModelDir(modelsDir, options.model), logger: context.logger });
}
