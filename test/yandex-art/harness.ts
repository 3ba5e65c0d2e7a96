/** Shared pieces of the YandexART tests: temp folders, credentials files, a provider wired to the fake. */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialSource } from '../../src/providers/yandex-art/credentials.js';
import { YandexArtProvider, type YandexArtProviderOptions } from '../../src/providers/yandex-art/yandex-art-provider.js';
import type { GenerateRequest, ResumeSlot } from '../../src/providers/types.js';
import { createMemoryLogger, type LogRecord, type Logger } from '../../src/util/logger.js';
import { FakeYandexArt, type FakeYandexArtOptions } from '../support/fake-yandex-art.js';
import { generateRequest, type RecordingRequest } from '../support/generate-request.js';

/** Long, distinctive, and never expected in any output. */
export const API_KEY = 'AQVN-test-key-9f3b27c1e0d84a6fb5e2';
export const OTHER_KEY = 'AQVN-second-key-41d7a2b9c8e6f503';
export const IAM_TOKEN = 't1.iam-token-7c2e91f0ab3d4e5f6a7b8c9d';
export const FOLDER = 'b1gtestfolder123456';

export async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'aiframe-'));
}

export async function writeCredentials(dataDir: string, credentials: Record<string, unknown> | string): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, 'ydart-options.json');
  await writeFile(file, typeof credentials === 'string' ? credentials : JSON.stringify(credentials));
  return file;
}

/** A resume slot in memory, like the job store's: it remembers what was saved and when. */
export interface MemorySlot extends ResumeSlot {
  readonly saved: unknown[];
  /** Requests the fake had seen when each save happened (POSTs, polls). */
  readonly seenAtSave: { posts: number; polls: number }[];
}

export function memorySlot(fake: FakeYandexArt | undefined, initial?: unknown): MemorySlot {
  const saved: unknown[] = [];
  const seenAtSave: { posts: number; polls: number }[] = [];
  return {
    saved,
    seenAtSave,
    load: () => initial,
    save: async (state) => {
      saved.push(state);
      seenAtSave.push({ posts: fake?.posts.length ?? 0, polls: fake?.polls.length ?? 0 });
    },
  };
}

export function request(fake: FakeYandexArt | undefined, overrides: Partial<GenerateRequest> = {}): RecordingRequest & { resume: MemorySlot } {
  return generateRequest({ prompt: 'a lighthouse on a cliff at dawn, oil painting', resume: memorySlot(fake), ...overrides }) as RecordingRequest & { resume: MemorySlot };
}

export interface Harness {
  readonly root: string;
  readonly fake: FakeYandexArt;
  readonly provider: YandexArtProvider;
  readonly logger: Logger & { records: LogRecord[] };
  readonly secrets: string[];
  readonly credentialsFile: string;
  dispose(): Promise<void>;
}

export interface HarnessOptions {
  fake?: FakeYandexArtOptions;
  provider?: Partial<YandexArtProviderOptions>;
  credentials?: Record<string, unknown> | string | null;
  environment?: Record<string, string>;
}

/** A provider wired to a fresh fake, with a credentials file unless told otherwise. */
export async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const root = await tempRoot();
  const dataDir = join(root, 'data');
  await mkdir(dataDir, { recursive: true });
  const fake = await FakeYandexArt.start({ folderId: FOLDER, credentials: [API_KEY, OTHER_KEY, IAM_TOKEN], ...options.fake });
  const credentialsFile =
    options.credentials === null
      ? join(dataDir, 'ydart-options.json')
      : await writeCredentials(dataDir, options.credentials ?? { folder_id: FOLDER, api_key: API_KEY });
  const logger = createMemoryLogger();
  const secrets: string[] = [];
  const provider = new YandexArtProvider({
    baseUrl: fake.url,
    credentials: new CredentialSource({ file: credentialsFile, environment: options.environment ?? {} }),
    secrets: { add: (secret) => void (secret !== undefined && secrets.push(secret)) },
    logger,
    pollIntervalMs: 20,
    requestTimeoutMs: 2000,
    retryBaseMs: 10,
    ...options.provider,
  });
  await provider.start();
  return {
    root,
    fake,
    provider,
    logger,
    secrets,
    credentialsFile,
    async dispose() {
      await fake.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Runs `body` against a fresh harness and disposes of it afterwards, whatever happens. */
export async function withHarness(options: HarnessOptions, body: (h: Harness) => Promise<void>): Promise<void> {
  const h = await harness(options);
  try {
    await body(h);
  } finally {
    await h.dispose();
  }
}

/** Everything a test can see of the provider's words: log lines (with metadata) and a message. */
export function everythingSaid(logger: { records: LogRecord[] }, ...more: (string | undefined)[]): string {
  return [...logger.records.map((record) => `${record.message} ${JSON.stringify(record.meta ?? {})}`), ...more].join('\n');
}
