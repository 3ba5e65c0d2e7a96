import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { mkdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { AppConfig } from './config/app-config.js';
import { createApp } from './http/create-app.js';
import { listen } from './http/listen.js';
import { resolveAdminToken } from './http/access/admin-token.js';
import { allowedNetworks } from './http/access/allowed-networks.js';
import { createTokenCheck } from './http/access/token-check.js';
import { apiRoutes } from './http/api/api-routes.js';
import { EventStreams } from './http/api/event-stream.js';
import { buildStatusReport } from './metrics/status-report.js';
import { statusRoutes } from './http/status-routes.js';
import { DEFAULT_WEB_ROOT, webRoutes } from './http/web-routes.js';
import { AppMetrics } from './metrics/metrics.js';
import { frameRoutes } from './http/frame-routes.js';
import { Scheduler } from './jobs/scheduler.js';
import { ImageLibrary } from './library/image-library.js';
import { SecretRegistry } from './logging/secret-registry.js';
import { ConfigError } from './config/config-error.js';
import { FrameService } from './operations/frame-service.js';
import { GenerationLedger } from './operations/generation-ledger.js';
import { ProviderGate } from './operations/provider-gate.js';
import { JobStore } from './operations/job-store.js';
import { OperationStore } from './operations/operation-store.js';
import { PromptStore } from './prompts/prompt-store.js';
import { buildRegistry } from './providers/registry.js';
import type { ImageProvider } from './providers/types.js';
import { RenderCache } from './render/render-cache.js';
import { ThumbnailCache } from './render/thumbnail-cache.js';
import { configureSharpForServer } from './render/render-for-frame.js';
import { systemClock, type Clock } from './util/clock.js';
import type { Logger } from './util/logger.js';
import { NoticeBoard } from './util/notice-board.js';
import { StorageProblems } from './util/storage-problems.js';

export interface StartServerOptions {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly secrets?: SecretRegistry;
  /** Providers added by the caller (tests, embedding applications), beside those from config. */
  readonly extraProviders?: readonly ImageProvider[];
  /** Run the cron schedule (off in tests that drive the jobs by hand). */
  readonly schedule?: boolean;
  /** Shown on the status page. */
  readonly version?: string;
  /** The process environment, for settings that may come from it (credentials, tokens). */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /**
   * Shows the person who started the server a line the log files must never hold (the
   * generated admin token). Unset: standard output.
   */
  readonly terminal?: (line: string) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly frames: FrameService;
  readonly library: ImageLibrary;
  readonly prompts: PromptStore;
  readonly metrics: AppMetrics;
  /** Operations by id, and their listeners (the API's live progress). */
  readonly operations: OperationStore;
  /** The open Server-Sent Events streams. */
  readonly eventStreams: EventStreams;
  /** Problems shown on the page and in /status (disk full, a file set aside). */
  readonly notices: NoticeBoard;
  /** The work the crons do, callable directly. */
  readonly jobs: { checkPending(): Promise<void>; scanImages(): Promise<void> };
  close(): Promise<void>;
}

/** Wires every module from the configuration and starts listening. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const secrets = options.secrets ?? new SecretRegistry();
  const notices = new NoticeBoard(() => clock.now());
  const storage = new StorageProblems(notices, logger);
  const { dataDir, imagesDir, logDir } = config.paths;
  configureSharpForServer();
  await Promise.all([mkdir(dataDir, { recursive: true }), mkdir(imagesDir, { recursive: true }), mkdir(logDir, { recursive: true })]);
  // First, so the token is in the secret registry before anything else can log it.
  const adminToken = await resolveAdminToken({
    ...(config.access.adminToken === undefined ? {} : { configured: config.access.adminToken }),
    environment: options.environment ?? {},
    dataDir,
    logger,
    secrets,
    terminal: options.terminal ?? ((line) => process.stdout.write(`${line}\n`)),
  });

  const library = new ImageLibrary({
    root: imagesDir,
    minCount: config.library.minCount,
    maxCount: config.library.maxCount,
    logger,
    clock,
  });
  const renders = new RenderCache({ root: join(imagesDir, 'frame'), profile: config.frame, logger });
  const thumbnails = new ThumbnailCache({ root: join(imagesDir, 'thumbnail'), logger });
  const prompts = new PromptStore({
    file: join(dataDir, 'prompts.json'),
    // An upstream ImageServer prompts.yaml found here is imported once and kept as a backup.
    upstreamFile: join(dataDir, 'prompts.yaml'),
    maxCount: config.promptsAmount,
    logger,
    notices,
  });
  const jobStore = new JobStore({ file: join(dataDir, 'jobs.json'), logger });
  const ledger = new GenerationLedger({ file: join(dataDir, 'stats.json'), clock, logger });
  // Read the certificate first: a missing file must stop start-up before anything else runs.
  const tls = config.tls === undefined ? undefined : await readTlsFiles(config.tls.certFile, config.tls.keyFile, config.optionsFile);
  await Promise.all([library.open(), renders.open(), thumbnails.open(), prompts.open(), ledger.open()]);
  library.onRemoved((name) => {
    renders.remove(name).catch((error: unknown) => logger.warn('could not delete a render', { picture: name, error: (error as Error).message }));
    thumbnails.remove(name).catch((error: unknown) => logger.warn('could not delete a thumbnail', { picture: name, error: (error as Error).message }));
  });
  await thumbnails.removeOrphans((name) => library.get(name) !== undefined);

  const providers = buildRegistry({ context: { config, logger, secrets, environment: options.environment ?? {} }, extraProviders: options.extraProviders ?? [] });
  await Promise.all(providers.all().map((provider) => provider.start?.()));
  const gate = new ProviderGate({ rules: config.providerRules, ledger, clock });
  for (const provider of providers.pool) {
    const status = gate.status(provider);
    logger.info(`provider ${provider.id}: ${status.ready ? 'ready' : `not ready: ${status.reason}`}`);
    if (provider.capabilities.paid && config.providerRules.get(provider.id)?.dailyLimit === undefined) {
      logger.info(`provider ${provider.id} is paid: at most ${status.dailyLimit} calls a day; set providers.${provider.id}.daily_limit to change it (a number, or unlimited)`);
    }
  }

  const metrics = new AppMetrics({
    logger,
    librarySize: () => library.size,
    providerStatuses: () => providers.pool.map((provider) => gate.status(provider)),
    ledger,
  });
  const operations = new OperationStore({ clock, logger });
  const frames = new FrameService({
    clock,
    logger,
    operations,
    library,
    renders,
    prompts,
    providers,
    jobs: jobStore,
    frame: config.frame,
    thresholdMinutes: config.generateThresholdMinutes,
    generationTimeoutMs: config.generationTimeoutMs,
    gate,
    ledger,
    quietHours: config.quietHours,
    observer: metrics,
    redact: (text) => secrets.redact(text),
    storage,
  });
  await frames.resumeSavedJobs(await jobStore.open());

  const jobs = {
    checkPending: async (): Promise<void> => {
      frames.sweep();
      await Promise.all(providers.all().map((provider) => provider.checkPending?.()));
    },
    scanImages: async (): Promise<void> => {
      await library.reindex();
      const removed = await library.prune();
      if (removed.length > 0) logger.info('pruned the library', { removed: removed.length, left: library.size });
      await Promise.all(providers.all().map((provider) => provider.refresh?.()));
    },
  };
  const version = options.version ?? 'dev';
  const startedAt = clock.now();
  const eventStreams = new EventStreams();
  const app = createApp({
    logger,
    // The network guard first: a refused client is not even counted.
    before: [allowedNetworks(config.access.allowedNetworks, logger), metrics.httpMiddleware()],
    routers: [
      frameRoutes({ frames, prompts }),
      statusRoutes({ metrics, version, startedAt, clock, notices }),
      webRoutes({ webRoot: DEFAULT_WEB_ROOT }),
      apiRoutes({
        frames,
        operations,
        prompts,
        maxPrompts: config.promptsAmount,
        library,
        renders,
        thumbnails,
        providers,
        gate,
        ledger,
        summary: () => buildStatusReport(metrics.snapshot(), { version, startedAt, now: clock.now(), notices: notices.list() }),
        tokenCheck: createTokenCheck(adminToken.token),
        streams: eventStreams,
      }),
    ],
  });
  const server = createServer(app.callback());
  // Frames keep no connection open between polls; a short keep-alive frees sockets early.
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 30_000;
  let tlsServer: Server | undefined;
  try {
    await listen(server, { port: config.port, host: config.host, portSetting: '--port (or PORT)' });
    if (tls && config.tls) {
      tlsServer = createTlsServer({ cert: tls.cert, key: tls.key }, app.callback());
      await listen(tlsServer, { port: config.tls.port, host: config.host, portSetting: `tls.port in ${config.optionsFile}` });
    }
  } catch (error) {
    // Nothing begun so far may keep the process alive: the caller exits with the reason.
    if (server.listening) await closeServer(server);
    await frames.shutdown();
    await Promise.all(providers.all().map((provider) => provider.close?.()));
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  logger.info(`listening on ${config.host}:${port}; point the frame's Image Server at this machine's address and port ${port}`);
  if (tlsServer) logger.info(`HTTPS listening on ${config.host}:${(tlsServer.address() as AddressInfo).port} (plain HTTP stays on port ${port})`);

  // The crons start once the server listens: none runs for a start that failed.
  const scheduler = new Scheduler(logger);
  if (options.schedule ?? true) {
    metrics.startHourlySummary();
    scheduler.start([
      { name: 'check pending operations', cron: config.cron.checkPending, run: jobs.checkPending },
      { name: 'scan and prune images', cron: config.cron.scanImages, run: jobs.scanImages },
    ]);
  }

  // Renders for pictures that have none yet (new screen settings, pictures added by hand),
  // made in the background, oldest-first order does not matter.
  const warming = new AbortController();
  void warmRenders(library, renders, logger, warming.signal);

  let closed = false;
  return {
    url,
    port,
    frames,
    library,
    prompts,
    metrics,
    operations,
    eventStreams,
    notices,
    jobs,
    async close() {
      if (closed) return;
      closed = true;
      warming.abort();
      metrics.stopHourlySummary();
      await scheduler.stop();
      // Open event streams would keep server.close() waiting: end them first.
      await eventStreams.closeAll();
      await Promise.all([server, tlsServer].map((listening) => (listening ? closeServer(listening) : undefined)));
      await frames.shutdown();
      await Promise.all(providers.all().map((provider) => provider.close?.()));
    },
  };
}

async function warmRenders(library: ImageLibrary, renders: RenderCache, logger: Logger, signal: AbortSignal): Promise<void> {
  let made = 0;
  for (const picture of library.list()) {
    if (signal.aborted) return;
    if (renders.has(picture.name)) continue;
    try {
      await renders.ensure(picture.name, library.originalPath(picture.name));
      made += 1;
    } catch (error) {
      logger.warn('stored picture cannot be rendered', { picture: picture.name, reason: (error as Error).message });
    }
  }
  if (made > 0) logger.info('frame renders made for stored pictures', { count: made });
}

/**
 * Stops listening and lets requests in progress finish (a frame reading its picture). After
 * `graceMs`, connections still open are cut: a browser's or fetch's spare connection that
 * never sent a request is not "idle" to Node and would otherwise hold shutdown open.
 */
function closeServer(server: Server, graceMs = 2000): Promise<void> {
  return new Promise<void>((resolveClose) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolveClose();
    });
    server.closeIdleConnections();
  });
}

async function readTlsFiles(certFile: string, keyFile: string, optionsFile: string): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (path: string, key: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (error) {
      throw new ConfigError(`${optionsFile}: ${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  return { cert: await read(certFile, 'tls.cert'), key: await read(keyFile, 'tls.key') };
}
