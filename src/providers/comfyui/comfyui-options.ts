import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../config/config-error.js';
import { parseSection, type ProviderContext } from '../registry.js';
import { baseUrlSchema, remoteSectionSchema, secondsSchema } from '../http/remote-options.js';
import { pixelsForSize } from '../remote-size.js';
import { ComfyUIProvider } from './comfyui-provider.js';
import { WorkflowError } from './workflow.js';

/** `providers.comfyui` in options.yml. */
const comfySchema = remoteSectionSchema({
  base_url: baseUrlSchema,
  /** The API-format workflow; a relative path is read from options.yml's folder. */
  workflow: z.string({ error: 'expected the path of a workflow saved with "Export (API)"' }).min(1),
  steps: z.number({ error: 'expected a whole number of steps' }).int().min(1).max(150).default(25),
  negative_prompt: z.string({ error: 'expected text' }).default(''),
  /** {{width}} × {{height}}: 640 gives 512×768 for a 2:3 frame; SDXL workflows want 1024. */
  size: z.number({ error: 'expected a number of pixels such as 640' }).int().min(64).max(4096).default(640),
  timeout_seconds: secondsSchema(600, 1),
  poll_interval_seconds: secondsSchema(1),
  health_interval_seconds: secondsSchema(60, 0),
});

/** The factory behind `providers.comfyui`. A workflow that cannot be used stops start-up. */
export function createComfyUIProvider(section: Readonly<Record<string, unknown>>, context: ProviderContext): ComfyUIProvider {
  const file = context.config.optionsFile;
  const options = parseSection(comfySchema, section, 'comfyui', file);
  try {
    return new ComfyUIProvider({
      baseUrl: options.base_url,
      workflowFile: resolve(dirname(file), options.workflow),
      steps: options.steps,
      negativePrompt: options.negative_prompt,
      targetPixels: pixelsForSize(options.size),
      timeoutMs: options.timeout_seconds,
      pollIntervalMs: options.poll_interval_seconds,
      healthIntervalMs: options.health_interval_seconds,
      logger: context.logger,
    });
  } catch (error) {
    if (error instanceof WorkflowError) throw new ConfigError(`${file}: providers.comfyui.workflow: ${error.message}`);
    throw error;
  }
}
