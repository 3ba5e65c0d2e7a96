/**
 * What a model runs best with when options.yml does not say: steps, guidance, scheduler and
 * native size, from the model's catalogue entry when it has one, else from its own config
 * files and the kind of scheduler it ships with.
 */
import { basename } from 'node:path';
import { findCatalogueEntry } from './model-store/catalogue.js';
import { readModelConfig } from './model-config.js';
import { defaultSchedulerFor, parseSchedulerName, type SchedulerName } from './scheduler/index.js';

export interface ModelDefaults {
  readonly scheduler: SchedulerName;
  readonly steps: number;
  readonly guidance: number;
  /** Width × height of the size the model was trained at. */
  readonly nativePixels: number;
}

/** Per scheduler kind: Turbo is distilled for 1 step without guidance, LCM for ~4 (diffusers docs). */
function kindDefaults(scheduler: SchedulerName): { steps: number; guidance: number } {
  if (scheduler === 'turbo') return { steps: 1, guidance: 0 };
  if (scheduler === 'lcm') return { steps: 4, guidance: 8.5 };
  return { steps: 25, guidance: 7.5 };
}

const SD_NATIVE_PIXELS = 512 * 512;

export async function readModelDefaults(modelDir: string, modelName: string): Promise<ModelDefaults> {
  const config = await readModelConfig(modelDir);
  const entry = findCatalogueEntry(modelName) ?? findCatalogueEntry(basename(modelDir));
  const configScheduler = defaultSchedulerFor(config.schedulerClass);
  const nativePixels = entry
    ? entry.nativeSize.width * entry.nativeSize.height
    : config.unetSampleSize !== undefined
      ? (config.unetSampleSize * 8) ** 2
      : SD_NATIVE_PIXELS;
  if (entry) {
    const scheduler = parseSchedulerName(entry.recommended.scheduler) ?? configScheduler;
    return { scheduler, steps: entry.recommended.steps, guidance: entry.recommended.guidance, nativePixels };
  }
  return { scheduler: configScheduler, ...kindDefaults(configScheduler), nativePixels };
}

/**
 * Steps and guidance for the scheduler in use: the model's, unless options.yml picked one of
 * the distilled kinds (Turbo, LCM), whose step counts are of another order.
 */
export function defaultsForScheduler(defaults: ModelDefaults, scheduler: SchedulerName): { steps: number; guidance: number } {
  if (scheduler !== defaults.scheduler && (scheduler === 'turbo' || scheduler === 'lcm')) return kindDefaults(scheduler);
  return { steps: defaults.steps, guidance: defaults.guidance };
}
