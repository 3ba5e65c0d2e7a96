import type Router from '@koa/router';
import type { ImageLibrary } from '../../library/image-library.js';
import type { StatusReport } from '../../metrics/status-report.js';
import type { FrameService } from '../../operations/frame-service.js';
import type { GenerationLedger } from '../../operations/generation-ledger.js';
import type { ProviderGate } from '../../operations/provider-gate.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import { requireAdminToken, type TokenCheck } from '../access/token-check.js';
import { presentPicture, presentProvider } from './presenters.js';

export interface OverviewRoutesOptions {
  readonly frames: FrameService;
  readonly library: ImageLibrary;
  readonly providers: ProviderRegistry;
  readonly gate: ProviderGate;
  readonly ledger: Pick<GenerationLedger, 'day'>;
  /** What /status.json answers. */
  readonly summary: () => StatusReport;
  readonly tokenCheck: TokenCheck;
}

/** The read-only views (summary, providers, what the frame shows) and the token check. */
export function registerOverviewRoutes(router: Router, options: OverviewRoutesOptions): void {
  const { frames, library, providers, gate, ledger } = options;

  router.get('/summary', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = options.summary();
  });

  router.get('/providers', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { providers: providers.pool.map((provider) => presentProvider(provider, gate.status(provider), ledger.day(provider.id))) };
  });

  router.get('/frame', (ctx) => {
    const name = frames.lastSentPictureName();
    const meta = name === undefined ? undefined : library.get(name);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { picture: meta === undefined ? null : presentPicture(meta) };
  });

  // The page checks a token it stored before offering the buttons that need it.
  router.get('/auth', requireAdminToken(options.tokenCheck), (ctx) => {
    ctx.status = 204;
  });
}
