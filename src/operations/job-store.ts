import { rename } from 'node:fs/promises';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { Logger } from '../util/logger.js';
import { readTextIfExists } from '../util/read-if-exists.js';
import { SerialQueue } from '../util/serial-queue.js';

/**
 * Generations that must survive a restart, in `data/jobs.json`. A job is written only when
 * its provider saves resume state (the id of a paid remote operation, say), and removed when
 * it ends; so the file stays tiny and a free local generation never touches the disk.
 */
const persistedJobSchema = z.object({
  operationId: z.string(),
  type: z.string(),
  providerId: z.string(),
  prompt: z.string(),
  template: z.string().optional(),
  negative: z.string().optional(),
  seed: z.number(),
  width: z.number(),
  height: z.number(),
  createdAt: z.number(),
  resume: z.unknown(),
});

export type PersistedJob = z.infer<typeof persistedJobSchema>;

const fileSchema = z.object({ jobs: z.array(persistedJobSchema) });

export class JobStore {
  private readonly jobs = new Map<string, PersistedJob>();
  private readonly queue = new SerialQueue();

  constructor(private readonly options: { file: string; logger: Logger }) {}

  /** `data/jobs.json`, for messages about it. */
  get file(): string {
    return this.options.file;
  }

  /** Loads the saved jobs. A damaged file is kept aside, never silently overwritten. */
  async open(): Promise<PersistedJob[]> {
    const text = await readTextIfExists(this.options.file);
    if (text === undefined) return [];
    try {
      const parsed = fileSchema.parse(JSON.parse(text));
      for (const job of parsed.jobs) this.jobs.set(job.operationId, job);
    } catch (error) {
      const aside = `${this.options.file}.corrupt-${Date.now()}`;
      await rename(this.options.file, aside);
      this.options.logger.error(`pending jobs file was damaged; kept it as ${aside} and started without it`, {
        error: (error as Error).message,
      });
    }
    return [...this.jobs.values()];
  }

  /** Saves (or replaces) a job; resolves once it is on disk. */
  save(job: PersistedJob): Promise<void> {
    this.jobs.set(job.operationId, job);
    return this.flush();
  }

  remove(operationId: string): Promise<void> {
    if (!this.jobs.delete(operationId)) return Promise.resolve();
    return this.flush();
  }

  private flush(): Promise<void> {
    // Owner-only: a job's resume state may carry what a paid service handed back for it.
    return this.queue.run(() => writeJsonAtomic(this.options.file, { jobs: [...this.jobs.values()] }, { mode: 0o600 }));
  }
}
