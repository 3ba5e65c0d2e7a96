import type { ImageProvider } from '../providers/types.js';
import type { Clock } from '../util/clock.js';
import type { GenerationLedger } from './generation-ledger.js';
import { formatTimeOfDay, inRange, rangeEnd, type TimeRange } from './time-range.js';

/** The rules every provider gets from `providers.<id>` in options.yml, whatever the provider. */
export interface ProviderRules {
  /** Minutes between calls to this provider (`providers.<id>.image_generate_threshold`). */
  readonly thresholdMinutes?: number;
  /** Hours this provider is not called (`providers.<id>.sleep_time`). */
  readonly sleep: readonly TimeRange[];
  /**
   * At most this many calls per local day (`providers.<id>.daily_limit`); `unlimited` when
   * the owner wrote so. Unset: {@link DEFAULT_PAID_DAILY_LIMIT} for a paid provider, none for
   * a free one.
   */
  readonly dailyLimit?: number | 'unlimited';
}

/**
 * The daily limit of a paid provider whose section sets none. The frame API has no token
 * (the firmware cannot send one), so anyone on the network can press "Generate": without a
 * default, a stuck button or a prank runs up the owner's bill.
 */
export const DEFAULT_PAID_DAILY_LIMIT = 20;

/** The limit in force for a provider: its own, the paid default, or none. */
export function effectiveDailyLimit(rules: ProviderRules | undefined, provider: Pick<ImageProvider, 'capabilities'>): number | undefined {
  const own = rules?.dailyLimit;
  if (own === 'unlimited') return undefined;
  if (own !== undefined) return own;
  return provider.capabilities.paid ? DEFAULT_PAID_DAILY_LIMIT : undefined;
}

export interface ProviderStatus {
  readonly id: string;
  readonly displayName: string;
  readonly ready: boolean;
  /** Why not, in words for a person. */
  readonly reason?: string;
  /** When the provider may next be called, when a rule says (threshold, sleep hours, a new day). */
  readonly nextAllowedAt?: Date;
  readonly today: number;
  readonly dailyLimit?: number;
}

/**
 * Whether a provider may be called now, by its own readiness (credentials, model, remote up)
 * and by the rules of options.yml. One mechanism for every provider, so `auto` only ever
 * picks among providers that are ready by all of them.
 */
export class ProviderGate {
  constructor(
    private readonly options: {
      readonly rules: ReadonlyMap<string, ProviderRules>;
      readonly ledger: GenerationLedger;
      readonly clock: Clock;
    },
  ) {}

  status(provider: ImageProvider): ProviderStatus {
    const rules = this.options.rules.get(provider.id) ?? { sleep: [] };
    const now = this.options.clock.now();
    const today = this.options.ledger.day(provider.id).calls;
    const dailyLimit = effectiveDailyLimit(rules, provider);
    const base = { id: provider.id, displayName: provider.displayName, today, ...(dailyLimit === undefined ? {} : { dailyLimit }) };
    const own = provider.readiness();
    if (!own.ready) return { ...base, ready: false, reason: own.reason };
    const sleeping = rules.sleep.find((range) => inRange(range, now));
    if (sleeping) {
      return {
        ...base,
        ready: false,
        reason: `sleep hours ${formatTimeOfDay(sleeping.start)}-${formatTimeOfDay(sleeping.end)}`,
        nextAllowedAt: rangeEnd(sleeping, now),
      };
    }
    if (dailyLimit !== undefined && today >= dailyLimit) {
      const tomorrow = new Date(now.getTime());
      tomorrow.setHours(24, 0, 0, 0);
      return { ...base, ready: false, reason: `daily limit of ${dailyLimit} reached`, nextAllowedAt: tomorrow };
    }
    const last = this.options.ledger.lastCallAt(provider.id);
    if (rules.thresholdMinutes !== undefined && last !== undefined) {
      const next = last + rules.thresholdMinutes * 60_000;
      if (next > now.getTime()) {
        return { ...base, ready: false, reason: `called less than ${rules.thresholdMinutes} minutes ago`, nextAllowedAt: new Date(next) };
      }
    }
    return { ...base, ready: true };
  }

  isReady(provider: ImageProvider): boolean {
    return this.status(provider).ready;
  }
}
