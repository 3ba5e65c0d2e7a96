/**
 * The real server, stopped and started again on the same port and folders, as a restart of
 * the service looks to a phone with the page open.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load-config.js';
import type { ImageProvider } from '../../../src/providers/types.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { createMemoryLogger } from '../../../src/util/logger.js';

export interface RestartableServer {
  /** The server running now (a new object after each restart). */
  readonly current: RunningServer;
  /** The same for every run: the port does not change. */
  readonly url: string;
  stop(): Promise<void>;
  /** Starts again on the same port and folders, with these providers. */
  start(providers: readonly ImageProvider[]): Promise<void>;
  /** Stops it and deletes its folders. */
  dispose(): Promise<void>;
}

export async function startRestartableServer(environment: Record<string, string>, providers: readonly ImageProvider[]): Promise<RestartableServer> {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-'));
  await mkdir(join(root, 'data'), { recursive: true });
  let port = 0;
  let current: RunningServer | undefined;
  let running = false;
  const start = async (extraProviders: readonly ImageProvider[]): Promise<void> => {
    const { config } = await loadConfig({
      host: '127.0.0.1',
      port,
      dataDir: join(root, 'data'),
      imagesDir: join(root, 'images'),
      logDir: join(root, 'log'),
      help: false,
      version: false,
    });
    current = await startServer({ config, logger: createMemoryLogger(), schedule: false, environment, extraProviders });
    port = current.port;
    running = true;
  };
  const stop = async (): Promise<void> => {
    if (running) await current?.close();
    running = false;
  };
  await start(providers);
  return {
    get current() {
      if (current === undefined) throw new Error('not started');
      return current;
    },
    url: `http://127.0.0.1:${port}`,
    stop,
    start,
    async dispose() {
      await stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
