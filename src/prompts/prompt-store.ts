import { readFile, rename } from 'node:fs/promises';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { SerialQueue } from '../util/serial-queue.js';
import { DuplicatePromptError, PromptNotFoundError } from './prompt-errors.js';
import { defaultDocument, parsePromptDocument, renumber, type PromptDocument, type PromptEntry } from './prompt-file.js';
import { duplicateKey, validateNegative, validatePrompt } from './prompt-validation.js';

export interface PromptStoreOptions {
  /** `data/prompts.json`. */
  readonly file: string;
  /** How many prompts are kept (upstream `prompts_amount`); adding to a full list drops the oldest. */
  readonly maxCount?: number;
  readonly logger: Logger;
  /** `[0, 1)` source for {@link PromptStore.pickRandom}; tests pin it. */
  readonly random?: () => number;
  /** Stamps the name a corrupt file is moved to. */
  readonly clock?: Clock;
}

export interface NewPrompt {
  readonly prompt: string;
  readonly negative?: string;
}

export interface PromptChanges {
  readonly prompt?: string;
  readonly negative?: string;
}

export const DEFAULT_MAX_PROMPTS = 10;

/**
 * The bounded prompt list in `data/prompts.json`. The file is read once at open; after
 * that memory is the truth and every change is saved atomically before it becomes
 * visible, one change at a time, so concurrent adds never lose one and the file is
 * parseable at every instant.
 */
export class PromptStore {
  private readonly file: string;
  private readonly maxCount: number;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly queue = new SerialQueue();
  private document: PromptDocument = { prompts: [] };

  constructor(options: PromptStoreOptions) {
    const maxCount = options.maxCount ?? DEFAULT_MAX_PROMPTS;
    if (!Number.isInteger(maxCount) || maxCount < 1) {
      throw new RangeError(`prompts: maxCount must be a whole number >= 1, got ${maxCount}`);
    }
    this.file = options.file;
    this.maxCount = maxCount;
    this.logger = options.logger;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Loads the file, creating it with the single prompt "test" when missing. A file that is
   * not a prompt list is moved aside (never overwritten) and the list starts over.
   */
  open(): Promise<void> {
    return this.queue.run(async () => {
      const loaded = await this.load();
      let document = loaded.document;
      let changed = loaded.changed;
      const count = document.prompts.length;
      if (count > this.maxCount) {
        document = { ...document, prompts: document.prompts.slice(count - this.maxCount) };
        changed = true;
        this.logger.warn('prompts: more prompts than allowed; kept the newest', {
          file: this.file,
          found: count,
          kept: this.maxCount,
        });
      }
      const numbered = renumber(document.prompts);
      if (numbered.some((entry, i) => entry !== document.prompts[i])) changed = true;
      document = { ...document, prompts: numbered };
      if (changed) await writeJsonAtomic(this.file, document);
      this.document = document;
      this.logger.info('prompts: loaded', { file: this.file, count: numbered.length, maxCount: this.maxCount });
    });
  }

  /** The prompts, oldest (idx 1) first. */
  list(): readonly PromptEntry[] {
    return this.document.prompts;
  }

  get size(): number {
    return this.document.prompts.length;
  }

  get(idx: number): PromptEntry | undefined {
    return this.document.prompts[idx - 1];
  }

  /** A uniformly random prompt, or undefined when the list is empty. */
  pickRandom(): PromptEntry | undefined {
    const prompts = this.document.prompts;
    if (prompts.length === 0) return undefined;
    const index = Math.min(prompts.length - 1, Math.max(0, Math.floor(this.random() * prompts.length)));
    return prompts[index];
  }

  /**
   * Adds a prompt at the end (trimmed). A full list drops its oldest first. Throws
   * PromptValidationError or DuplicatePromptError.
   */
  add(input: NewPrompt): Promise<PromptEntry> {
    return this.queue.run(async () => {
      const prompt = validatePrompt(input.prompt);
      const negative = validateNegative(input.negative);
      this.refuseDuplicate(prompt);
      let kept = this.document.prompts;
      if (kept.length >= this.maxCount) {
        const dropped = kept.slice(0, kept.length - this.maxCount + 1);
        kept = kept.slice(dropped.length);
        this.logger.info('prompts: list full; dropped the oldest', { dropped: dropped.length });
      }
      const prompts = renumber([...kept, { idx: 0, prompt, negative }]);
      await this.save(prompts);
      this.logger.info('prompts: added', { count: prompts.length });
      return prompts[prompts.length - 1] as PromptEntry;
    });
  }

  /** Changes the text of one prompt, with the same checks as {@link add}. Extra fields stay. */
  update(idx: number, changes: PromptChanges): Promise<PromptEntry> {
    return this.queue.run(async () => {
      const current = this.require(idx);
      const prompt = changes.prompt === undefined ? current.prompt : validatePrompt(changes.prompt);
      const negative = changes.negative === undefined ? current.negative : validateNegative(changes.negative);
      if (changes.prompt !== undefined) this.refuseDuplicate(prompt, idx);
      const updated: PromptEntry = { ...current, prompt, negative };
      const prompts = this.document.prompts.map((entry) => (entry.idx === idx ? updated : entry));
      await this.save(prompts);
      this.logger.info('prompts: updated', { idx });
      return updated;
    });
  }

  /** Removes one prompt; the ones after it move up so the numbers stay 1..N. */
  remove(idx: number): Promise<PromptEntry> {
    return this.queue.run(async () => {
      const removed = this.require(idx);
      const prompts = renumber(this.document.prompts.filter((entry) => entry.idx !== idx));
      await this.save(prompts);
      this.logger.info('prompts: removed', { idx, count: prompts.length });
      return removed;
    });
  }

  private require(idx: number): PromptEntry {
    const entry = Number.isInteger(idx) ? this.document.prompts[idx - 1] : undefined;
    if (entry === undefined) throw new PromptNotFoundError(idx);
    return entry;
  }

  private refuseDuplicate(prompt: string, exceptIdx?: number): void {
    const key = duplicateKey(prompt);
    const existing = this.document.prompts.find((entry) => entry.idx !== exceptIdx && duplicateKey(entry.prompt) === key);
    if (existing !== undefined) throw new DuplicatePromptError(existing.idx);
  }

  /** Saves first, then makes the change visible: a failed save changes nothing. */
  private async save(prompts: PromptEntry[]): Promise<void> {
    const document: PromptDocument = { ...this.document, prompts };
    await writeJsonAtomic(this.file, document);
    this.document = document;
  }

  /** Reads the file; `changed` says it must be written back (created, or moved aside). */
  private async load(): Promise<{ document: PromptDocument; changed: boolean }> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.logger.info('prompts: no prompt file; creating one', { file: this.file });
      return { document: defaultDocument(), changed: true };
    }
    let problem: string;
    try {
      const parsed = parsePromptDocument(JSON.parse(text));
      if ('document' in parsed) return { document: parsed.document, changed: false };
      problem = parsed.problem;
    } catch (error) {
      problem = `not valid JSON (${error instanceof Error ? error.message : String(error)})`;
    }
    const backup = `${this.file}.corrupt-${timestamp(this.clock.now())}`;
    // Never overwrite a file we cannot read: the user may have hand-edited it and wants it back.
    await rename(this.file, backup);
    this.logger.error('prompts: the prompt file is unreadable; moved it aside and started over', {
      file: this.file,
      problem,
      movedTo: backup,
    });
    return { document: defaultDocument(), changed: true };
  }
}

/** `20260115T120000123Z`: file-name safe on every OS, sorts by time. */
function timestamp(at: Date): string {
  return at.toISOString().replace(/[-:.]/g, '');
}
