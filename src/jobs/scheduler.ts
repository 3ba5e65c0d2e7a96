import { schedule, type ScheduledTask } from 'node-cron';
import type { Logger } from '../util/logger.js';

export interface ScheduledJob {
  readonly name: string;
  /** Cron expression, already validated with the configuration. */
  readonly cron: string;
  readonly run: () => Promise<unknown> | void;
}

/**
 * The cron schedule. Jobs run in the server's local time zone (upstream ran its crons in UTC
 * while its quiet hours used local time: here both use local time). A run never overlaps the
 * previous one, and a failing run is logged, not fatal.
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];

  constructor(private readonly logger: Logger) {}

  start(jobs: readonly ScheduledJob[]): void {
    const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    for (const job of jobs) {
      const task = schedule(
        job.cron,
        async () => {
          try {
            await job.run();
          } catch (error) {
            this.logger.error(`scheduled job ${job.name} failed`, { error: (error as Error).message });
          }
        },
        { name: job.name, timezone, noOverlap: true },
      );
      this.tasks.push(task);
      this.logger.debug('scheduled', { job: job.name, cron: job.cron, timezone });
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.tasks.map((task) => task.destroy()));
    this.tasks.length = 0;
  }
}
