import { z } from 'zod';
import { parseTimeOfDay } from '../operations/time-range.js';

/**
 * Schemas shared by the quiet hours (`sleep_time` at the top level) and the per-provider
 * rules (`providers.<id>.image_generate_threshold|sleep_time|daily_limit`), so both read
 * the same upstream shapes.
 */
const timeOfDay = z
  .union([z.string(), z.number()], { error: 'expected a time like "22:00" or "22:00:30"' })
  .transform((value, context) => {
    const seconds = typeof value === 'string' ? parseTimeOfDay(value) : undefined;
    if (seconds === undefined) {
      context.addIssue({ code: 'custom', message: 'expected a time like "22:00" or "22:00:30" (in quotes)' });
      return z.NEVER;
    }
    return seconds;
  });

export const timeRangeSchema = z
  .object({ start_time: timeOfDay, end_time: timeOfDay }, { error: 'expected start_time and end_time' })
  .transform((range) => ({ start: range.start_time, end: range.end_time }));

export const quietHoursSchema = z
  .array(
    z.object({
      time_range: timeRangeSchema,
      black_image_mode: z.boolean({ error: 'expected true or false' }).default(false),
    }),
    { error: 'expected a list of time ranges' },
  )
  .default([]);

export const providerRulesSchema = z.object({
  image_generate_threshold: z
    .number({ error: 'expected a whole number of minutes' })
    .int({ error: 'expected a whole number of minutes' })
    .min(0, { error: 'expected a whole number of minutes' })
    .optional(),
  sleep_time: z
    .array(z.object({ time_range: timeRangeSchema }), { error: 'expected a list of time ranges' })
    .default([]),
  // A paid provider without one gets DEFAULT_PAID_DAILY_LIMIT; `unlimited` says so on purpose.
  daily_limit: z
    .union(
      [
        z.literal('unlimited'),
        z
          .number({ error: 'expected a whole number of generations per day, or unlimited' })
          .int({ error: 'expected a whole number of generations per day, or unlimited' })
          .min(0, { error: 'expected a whole number of generations per day, or unlimited' }),
      ],
      { error: 'expected a whole number of generations per day, or unlimited' },
    )
    .optional(),
});

/** Keys every provider section may hold besides the provider's own options. */
export const PROVIDER_RULE_KEYS: ReadonlySet<string> = new Set(Object.keys(providerRulesSchema.shape));
