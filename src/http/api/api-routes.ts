import Router from '@koa/router';
import type { ImageLibrary } from '../../library/image-library.js';
import type { StatusReport } from '../../metrics/status-report.js';
import type { FrameService } from '../../operations/frame-service.js';
import type { GenerationLedger } from '../../operations/generation-ledger.js';
import type { OperationStore } from '../../operations/operation-store.js';
import type { ProviderGate } from '../../operations/provider-gate.js';
import type { PromptStore } from '../../prompts/prompt-store.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import type { RenderCache } from '../../render/render-cache.js';
import type { ThumbnailCache } from '../../render/thumbnail-cache.js';
import type { TokenCheck } from '../access/token-check.js';
import type { EventStreams } from './event-stream.js';
import { registerGenerationRoutes } from './generation-routes.js';
import { registerOverviewRoutes } from './overview-routes.js';
import { registerPictureRoutes } from './picture-routes.js';
import { registerPromptRoutes } from './prompt-routes.js';

export interface ApiRoutesOptions {
  readonly frames: FrameService;
  readonly operations: OperationStore;
  readonly prompts: PromptStore;
  /** `prompts_amount`. */
  readonly maxPrompts: number;
  readonly library: ImageLibrary;
  readonly renders: RenderCache;
  readonly thumbnails: ThumbnailCache;
  readonly providers: ProviderRegistry;
  readonly gate: ProviderGate;
  readonly ledger: Pick<GenerationLedger, 'day'>;
  /** What /status.json answers. */
  readonly summary: () => StatusReport;
  /** Compares a presented admin token with the real one. */
  readonly tokenCheck: TokenCheck;
  /** Open Server-Sent Events streams, ended at shutdown. */
  readonly streams: EventStreams;
}

/**
 * The JSON API under `/api/` for the web page and other tools (Home Assistant, Shortcuts).
 * Reads are open to every allowed network; whatever spends money, deletes or changes
 * settings needs the admin token. Thin routes: each calls the module that owns the work.
 */
export function apiRoutes(options: ApiRoutesOptions): Router {
  const router = new Router({ prefix: '/api' });
  registerOverviewRoutes(router, options);
  registerPromptRoutes(router, options);
  registerPictureRoutes(router, options);
  registerGenerationRoutes(router, options);
  return router;
}
