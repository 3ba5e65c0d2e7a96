/**
 * Scheduler names as users type them. People arrive from A1111/Forge ("Euler a", "DPM++ 2M Karras"),
 * ComfyUI ("euler_ancestral", "dpmpp_2m" + scheduler "karras") or diffusers (class names), so all
 * of those spellings map onto our ids.
 */
import type { SchedulerName } from './scheduler.js';

/** Our ids, in the order error messages list them. */
export const SCHEDULER_NAMES: readonly SchedulerName[] = [
  'euler',
  'euler_a',
  'ddim',
  'dpmpp_2m',
  'dpmpp_2m_karras',
  'lcm',
  'turbo',
];

/** Spellings after `normalize` (lower case; runs of spaces, '_' and '-' become one '_'). */
const ALIASES: ReadonlyMap<string, SchedulerName> = new Map<string, SchedulerName>([
  ['euler', 'euler'],
  ['k_euler', 'euler'],
  ['eulerdiscretescheduler', 'euler'],
  ['euler_a', 'euler_a'],
  ['euler_ancestral', 'euler_a'],
  ['k_euler_a', 'euler_a'],
  ['k_euler_ancestral', 'euler_a'],
  ['eulerancestraldiscretescheduler', 'euler_a'],
  ['ddim', 'ddim'],
  ['ddimscheduler', 'ddim'],
  ['dpm++_2m', 'dpmpp_2m'],
  ['dpmpp_2m', 'dpmpp_2m'],
  ['k_dpmpp_2m', 'dpmpp_2m'],
  ['dpmsolvermultistepscheduler', 'dpmpp_2m'],
  ['dpm++_2m_karras', 'dpmpp_2m_karras'],
  ['dpmpp_2m_karras', 'dpmpp_2m_karras'],
  ['k_dpmpp_2m_karras', 'dpmpp_2m_karras'],
  ['lcm', 'lcm'],
  ['lcmscheduler', 'lcm'],
  ['turbo', 'turbo'],
  ['sd_turbo', 'turbo'],
]);

function normalize(text: string): string {
  return text.trim().toLowerCase().replace(/[\s_-]+/g, '_');
}

/** Our id for a name from any of the servers above (case-insensitive), or undefined. */
export function parseSchedulerName(text: string): SchedulerName | undefined {
  return ALIASES.get(normalize(text));
}

/** Class names of diffusers' scheduler_config.json `_class_name` that have a scheduler here. */
const CLASS_TO_SCHEDULER: ReadonlyMap<string, SchedulerName> = new Map<string, SchedulerName>([
  ['EulerDiscreteScheduler', 'euler'],
  ['EulerAncestralDiscreteScheduler', 'euler_a'],
  ['DDIMScheduler', 'ddim'],
  ['DPMSolverMultistepScheduler', 'dpmpp_2m'],
  ['LCMScheduler', 'lcm'],
]);

/**
 * The scheduler a model ships with, from its config's `_class_name`. PNDM (the SD 1.x default)
 * is not implemented, and anything unknown gets Euler: both are well served by it.
 */
export function defaultSchedulerFor(classNameFromConfig: string | undefined): SchedulerName {
  return (classNameFromConfig && CLASS_TO_SCHEDULER.get(classNameFromConfig.trim())) || 'euler';
}
