/** The scheduler module's public surface, for the pipeline and the tests. */
export type { ScheduleConfig, Scheduler, SchedulerName } from './scheduler.js';
export { readScheduleConfig } from './schedule-config.js';
export { createScheduler, TURBO_MAX_STEPS } from './create-scheduler.js';
export { SCHEDULER_NAMES, defaultSchedulerFor, parseSchedulerName } from './scheduler-names.js';
export { lcmTimesteps } from './lcm.js';
