/**
 * Random choice that avoids the last few choices, so a frame does not show the same photo
 * twice in a row. With n pictures it avoids the last min(5, n - 1): one picture is always
 * shown, two alternate, and larger folders get a real shuffle.
 */
export const RECENT_LIMIT = 5;

export class RecentPicker {
  private recent: string[] = [];

  /** @param random uniform in [0, 1), injected so tests can steer it. */
  constructor(private readonly random: () => number = Math.random) {}

  /** Picks one of `candidates` (undefined for none). */
  pick(candidates: readonly string[]): string | undefined {
    if (candidates.length === 0) return undefined;
    const window = Math.min(RECENT_LIMIT, candidates.length - 1);
    const avoid = new Set(this.recent.slice(this.recent.length - window));
    const allowed = window === 0 ? candidates : candidates.filter((candidate) => !avoid.has(candidate));
    // Recent picks may have left the list; fall back to everything rather than to nothing.
    const pool = allowed.length > 0 ? allowed : candidates;
    const index = Math.min(pool.length - 1, Math.floor(this.random() * pool.length));
    const chosen = pool[index] as string;
    this.recent.push(chosen);
    if (this.recent.length > RECENT_LIMIT) this.recent = this.recent.slice(-RECENT_LIMIT);
    return chosen;
  }

  /** Forgets a pick that turned out to be gone, so it does not hold a place in the window. */
  forget(candidate: string): void {
    this.recent = this.recent.filter((item) => item !== candidate);
  }
}
