import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import type { AppConfig } from '../../src/config/app-config.js';
import type { ImageProvider } from '../../src/providers/types.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { Clock } from '../../src/util/clock.js';
import { createMemoryLogger, type LogRecord } from '../../src/util/logger.js';

export interface TestServer extends RunningServer {
  readonly root: string;
  readonly config: AppConfig;
  readonly logs: LogRecord[];
  /** Lines shown on the console only, never logged (the generated admin token). */
  readonly terminalLines: string[];
  /** Stops the server and deletes its folders. */
  dispose(): Promise<void>;
}

export interface TestServerOptions {
  /** Text of data/options.yml; the default file is written when absent. */
  readonly optionsYaml?: string;
  readonly extraProviders?: readonly ImageProvider[];
  readonly clock?: Clock;
  /** Reuse the folders of an earlier server (restart tests). */
  readonly root?: string;
  /** The environment the server sees (credentials, tokens); empty by default. */
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/** Starts the real server on a loopback port with fresh folders, as a user's first start would. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'aiframe-server-')));
  const dataDir = join(root, 'data');
  await mkdir(dataDir, { recursive: true });
  if (options.optionsYaml !== undefined) await writeFile(join(dataDir, 'options.yml'), options.optionsYaml);
  const { config } = await loadConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    imagesDir: join(root, 'images'),
    logDir: join(root, 'log'),
    help: false,
    version: false,
  });
  const logger = createMemoryLogger();
  const terminalLines: string[] = [];
  const server = await startServer({
    config,
    logger,
    terminal: (line) => terminalLines.push(line),
    schedule: false,
    environment: options.environment ?? {},
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.extraProviders === undefined ? {} : { extraProviders: options.extraProviders }),
  });
  return {
    ...server,
    root,
    config,
    logs: logger.records,
    terminalLines,
    async dispose() {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Polls an operation over HTTP until it is no longer pending. */
export async function waitForOperation(baseUrl: string, id: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${baseUrl}/operation/status/${id}`);
    const body = (await response.json()) as { status: string };
    if (body.status !== 'pending') return body.status;
    if (Date.now() > deadline) throw new Error(`operation ${id} still pending after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function startOperation(baseUrl: string, body: unknown): Promise<{ status: number; json: { id?: string; status?: string; error?: unknown } }> {
  const response = await fetch(`${baseUrl}/operation/start`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as { id?: string; status?: string } };
}

/** Starts an operation and waits until it is done; returns its id. */
export async function startAndWait(baseUrl: string, body: unknown): Promise<string> {
  const { status, json } = await startOperation(baseUrl, body);
  if (status !== 200 || json.id === undefined) throw new Error(`start answered ${status}: ${JSON.stringify(json)}`);
  const outcome = await waitForOperation(baseUrl, json.id);
  if (outcome !== 'done') throw new Error(`operation ${json.id} ended ${outcome}`);
  return json.id;
}
