/**
 * Problems the owner must hear about in words, not only in the log: the disk is full, the
 * prompts file was set aside, a paid provider is held back. Modules raise a notice under a
 * stable key while the problem lasts and clear it when it is over; `/status`, the JSON API
 * and the phone page show the list. Messages are for a person and hold no secret.
 */
export type NoticeLevel = 'warning' | 'error';

export interface Notice {
  /** Stable id of the problem (`disk:data`, `prompts:corrupt`); one notice per key. */
  readonly key: string;
  readonly level: NoticeLevel;
  /** What went wrong and what to do, in words for the owner. */
  readonly message: string;
  /** When this problem was first seen (ISO 8601); kept while the same key is raised again. */
  readonly since: string;
}

export class NoticeBoard {
  private readonly notices = new Map<string, Notice>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Raises (or updates the words of) the notice under `key`. Returns true when it is new. */
  raise(key: string, message: string, level: NoticeLevel = 'error'): boolean {
    const existing = this.notices.get(key);
    this.notices.set(key, { key, level, message, since: existing?.since ?? this.now().toISOString() });
    return existing === undefined;
  }

  /** Clears the notice under `key`, if any. Returns true when there was one. */
  clear(key: string): boolean {
    return this.notices.delete(key);
  }

  has(key: string): boolean {
    return this.notices.has(key);
  }

  /** Every notice, errors first, then oldest first. */
  list(): Notice[] {
    return [...this.notices.values()].sort((a, b) => (a.level === b.level ? a.since.localeCompare(b.since) : a.level === 'error' ? -1 : 1));
  }
}
