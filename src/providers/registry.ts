import { z } from 'zod';
import type { AppConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import type { SecretRegistry } from '../logging/secret-registry.js';
import type { Logger } from '../util/logger.js';
import { createA1111Provider } from './a1111/a1111-options.js';
import { createComfyUIProvider } from './comfyui/comfyui-options.js';
import { FolderProvider } from './folder/folder-provider.js';
import { createFooocusApiProvider, createFooocusProvider } from './fooocus/fooocus-options.js';
import { createImagineProvider } from './imagine/imagine-options.js';
import { OfflineProvider } from './offline/offline-provider.js';
import { createOnnxProvider } from './onnx-sd/onnx-options.js';
import { createOpenAiProvider } from './openai/openai-options.js';
import type { ImageProvider } from './types.js';
import { createYandexArtProvider } from './yandex-art/yandex-art-options.js';

/** What a provider factory may use. Providers get nothing else from the server. */
export interface ProviderContext {
  readonly config: AppConfig;
  readonly logger: Logger;
  /** Registers credentials so no log line can carry them. */
  readonly secrets: SecretRegistry;
  /** The process environment (credentials may come from it); modules never read process.env. */
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds one provider from its `providers.<id>` section. The section is validated by the
 * factory's own schema; a mistake is a {@link ConfigError} naming the key.
 */
export type ProviderFactory = (section: Readonly<Record<string, unknown>>, context: ProviderContext) => ImageProvider;

const OFFLINE_ID = 'offline';

const offlineSchema = z.object({
  enabled: z.union([z.literal('auto'), z.boolean()], { error: 'expected auto, true or false' }).default('auto'),
});

const folderSchema = z.object({
  local_image_folder: z.string({ error: 'expected the path of a folder of photos' }).min(1, {
    error: 'expected the path of a folder of photos',
  }),
});

/** Providers known to this build, by the id used under `providers:` in options.yml. */
export const PROVIDER_FACTORIES: Readonly<Record<string, ProviderFactory>> = {
  lim: (section, context) => {
    const options = parseSection(folderSchema, section, 'lim', context.config.optionsFile);
    return new FolderProvider({ id: 'lim', folder: options.local_image_folder, logger: context.logger });
  },
  ydArt: (section, context) => createYandexArtProvider(section, context),
  a1111: (section, context) => createA1111Provider(section, context),
  imagine: (section, context) => createImagineProvider(section, context),
  comfyui: (section, context) => createComfyUIProvider(section, context),
  fooocus: (section, context) => createFooocusProvider(section, context),
  fooocusapi: (section, context) => createFooocusApiProvider(section, context),
  openai: (section, context) => createOpenAiProvider(section, context, 'openai', 'openai'),
  localai: (section, context) => createOpenAiProvider(section, context, 'localai', 'localai'),
  qwen: (section, context) => createOpenAiProvider(section, context, 'qwen', 'qwen'),
  onnx: (section, context) => createOnnxProvider(section, context),
};

/**
 * The providers of this server. `pool` are those `auto` and `ydart` choose from; `lastResort`
 * is the offline generator, which stands in when the library is empty and nothing else
 * worked, so a frame is never left blank.
 */
export class ProviderRegistry {
  private readonly byId: ReadonlyMap<string, ImageProvider>;

  constructor(
    readonly pool: readonly ImageProvider[],
    readonly lastResort: ImageProvider | undefined,
  ) {
    const all = new Map<string, ImageProvider>();
    for (const provider of pool) all.set(provider.id, provider);
    if (lastResort) all.set(lastResort.id, lastResort);
    this.byId = all;
  }

  get(id: string): ImageProvider | undefined {
    return this.byId.get(id);
  }

  all(): ImageProvider[] {
    return [...this.byId.values()];
  }

  /** Whether `id` may be asked for by name (`{"type":"<id>"}`). */
  isPoolMember(id: string): boolean {
    return this.pool.some((provider) => provider.id === id);
  }
}

export interface BuildRegistryOptions {
  readonly context: ProviderContext;
  /** Providers made by the caller instead of from config (an embedding application, tests). */
  readonly extraProviders?: readonly ImageProvider[];
  readonly factories?: Readonly<Record<string, ProviderFactory>>;
}

export function buildRegistry(options: BuildRegistryOptions): ProviderRegistry {
  const { config, logger } = options.context;
  const factories = options.factories ?? PROVIDER_FACTORIES;
  const disabled = new Set(config.disabledProviders);
  const pool: ImageProvider[] = [];
  for (const [id, section] of Object.entries(config.providers)) {
    if (id === OFFLINE_ID) continue;
    const factory = factories[id];
    if (!factory) {
      logger.warn(`${config.optionsFile}: providers.${id}: unknown provider, ignored`, {
        known: [OFFLINE_ID, ...Object.keys(factories)].join(', '),
      });
      continue;
    }
    if (disabled.has(id)) {
      logger.info(`provider ${id} is listed in disabled_providers and is not used`);
      continue;
    }
    pool.push(factory(section, options.context));
  }
  pool.push(...(options.extraProviders ?? []));

  const offlineSection = parseSection(offlineSchema, config.providers[OFFLINE_ID] ?? {}, OFFLINE_ID, config.optionsFile);
  const offline = new OfflineProvider({ id: OFFLINE_ID, logger });
  const othersGenerate = pool.some((provider) => provider.id !== OFFLINE_ID);
  const offlineInPool =
    !disabled.has(OFFLINE_ID) && (offlineSection.enabled === true || (offlineSection.enabled === 'auto' && !othersGenerate));
  if (offlineInPool) pool.push(offline);
  // `enabled: false` only keeps it out of rotation: it still stands in when nothing else can
  // show a picture. Listed in disabled_providers, it is never used; the frame then gets a
  // black frame at the end of the fallback chain.
  return new ProviderRegistry(pool, disabled.has(OFFLINE_ID) ? undefined : offline);
}

/** Validates a `providers.<id>` section with the provider's schema; a mistake names the key. */
export function parseSection<T>(schema: z.ZodType<T>, section: unknown, id: string, file: string): T {
  const result = schema.safeParse(section ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue?.path.length ? `.${issue.path.map(String).join('.')}` : '';
  throw new ConfigError(`${file}: providers.${id}${key}: ${issue?.message ?? 'invalid options'}`);
}
