import { createHash } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { naming } from '../util/fs-errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { decodeHandEditedText, parseHandEditedJson } from '../util/hand-edited-json.js';
import type { NoticeBoard } from '../util/notice-board.js';
import { SerialQueue } from '../util/serial-queue.js';
import { DuplicatePromptError, PromptNotFoundError } from './prompt-errors.js';
import {
  defaultDocument,
  fileTimestamp,
  parsePromptDocument,
  renumber,
  type PlaceholderLists,
  type PromptDocument,
  type PromptEntry,
} from './prompt-file.js';
import { fillPrompt, findMissingPlaceholders, type FilledPrompt, type MissingPlaceholder } from './prompt-template.js';
import {
  documentPlaceholderProblems,
  duplicateKey,
  readPlaceholderLists,
  validateNegative,
  validatePlaceholderLists,
  validatePrompt,
} from './prompt-validation.js';
import { importUpstreamPrompts } from './upstream-import.js';

export interface PromptStoreOptions {
  /** `data/prompts.json`. */
  readonly file: string;
  /** How many prompts are kept (upstream `prompts_amount`); adding to a full list drops the oldest. */
  readonly maxCount?: number;
  readonly logger: Logger;
  /** `[0, 1)` source for {@link PromptStore.pickRandom} and the placeholder draws; tests pin it. */
  readonly random?: () => number;
  /** Stamps the names a corrupt file or an imported yaml is moved to. */
  readonly clock?: Clock;
  /**
   * Upstream's `data/prompts.yaml`. When given and present at open, it is imported once
   * (see importUpstreamPrompts) and renamed to `prompts.yaml.imported-<time>`.
   */
  readonly upstreamFile?: string;
  /**
   * Where the owner is told, in words, that the file could not be read and where it went
   * (key {@link CORRUPT_NOTICE_KEY}); the log alone is not read by anyone.
   */
  readonly notices?: NoticeBoard;
}

/** The notice raised while the prompts file read at start-up was set aside. */
export const CORRUPT_NOTICE_KEY = 'prompts:corrupt';

export interface NewPrompt {
  readonly prompt: string;
  readonly negative?: string;
  /** This prompt's own lists for its `[[name]]` placeholders. */
  readonly placeholders?: PlaceholderLists;
}

export interface PromptChanges {
  readonly prompt?: string;
  readonly negative?: string;
  /** Replaces the prompt's own lists; null or `{}` removes them. */
  readonly placeholders?: PlaceholderLists | null;
}

/** A stored prompt, filled and ready to send, with the idx it came from. */
export interface PickedPrompt extends FilledPrompt {
  readonly idx: number;
}

export const DEFAULT_MAX_PROMPTS = 10;

/**
 * What a change expects to find at its idx (HTTP's If-Match). Ids are list positions that
 * shift after a delete, so a client with a stale list names the prompt it saw by its version.
 */
export interface PromptExpectation {
  /** The change goes ahead only when the prompt now at idx has one of these versions. */
  readonly versions: readonly string[];
}

/**
 * A short hash of what a person wrote (prompt, negative, own placeholder lists): it changes
 * whenever the content does, and not when a delete before it changes its idx. Extra fields
 * and the idx are left out on purpose. Raw placeholders are hashed as stored, so a
 * hand-edited malformed list still counts.
 */
export function promptVersion(entry: PromptEntry): string {
  const content = JSON.stringify([entry.prompt, entry.negative, entry.placeholders ?? null]);
  return createHash('sha256').update(content).digest('base64url').slice(0, 16);
}

/** The prompt at this idx is not the version the change expected (changed, or gone and renumbered). */
export class PromptVersionMismatchError extends Error {
  override readonly name = 'PromptVersionMismatchError';
  constructor(
    readonly idx: number,
    /** The version now at idx; undefined when there is no prompt there. */
    readonly currentVersion: string | undefined,
  ) {
    super(`prompt number ${idx} is not the version expected`);
  }
}

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
  private readonly upstreamFile: string | undefined;
  private readonly notices: NoticeBoard | undefined;
  private document: PromptDocument = { prompts: [] };
  /** The well-formed part of `global_placeholders`, read once per change. */
  private globals: PlaceholderLists = {};

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
    this.upstreamFile = options.upstreamFile;
    this.notices = options.notices;
  }

  /**
   * Loads the file, creating it with the single prompt "test" when missing. A file that is
   * not a prompt list is moved aside (never overwritten) and the list starts over. Then
   * imports upstream's prompts.yaml if configured and present, and logs placeholder lists
   * that are malformed (error; they are kept in the file but not used) and placeholders
   * that no list gives a value (warn, naming the prompt idx and the placeholder).
   */
  open(): Promise<void> {
    return this.queue.run(async () => {
      const loaded = await this.load();
      let document = loaded.document;
      let changed = loaded.changed;
      let importedFrom: string | undefined;
      if (this.upstreamFile !== undefined) {
        // After load: a corrupt prompts.json is already moved aside, so an import never replaces it.
        const imported = await importUpstreamPrompts({
          yamlFile: this.upstreamFile,
          jsonFile: this.file,
          current: document,
          maxCount: this.maxCount,
          logger: this.logger,
          clock: this.clock,
        });
        if (imported.outcome === 'imported') {
          document = imported.document; // already written, bounded and numbered
          changed = false;
          importedFrom = this.upstreamFile;
        }
      }
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
      this.adopt(document);
      this.tellOwner(loaded.setAside, importedFrom);
      for (const problem of documentPlaceholderProblems(document)) {
        this.logger.error('prompts: a placeholder list is malformed; it is kept in the file but not used until fixed', {
          file: this.file,
          problem,
        });
      }
      this.warnMissing(numbered);
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

  /** {@link pickRandom}, with its placeholders filled ({@link fill}); undefined when the list is empty. */
  pickFilled(): PickedPrompt | undefined {
    const entry = this.pickRandom();
    return entry === undefined ? undefined : { idx: entry.idx, ...this.fill(entry) };
  }

  /** Fills a prompt's `[[name]]` placeholders from its own lists, then the global ones. */
  fill(entry: PromptEntry): FilledPrompt {
    return fillPrompt(entry, this.globals, this.random);
  }

  /** The global lists (`global_placeholders`), well-formed names only. */
  globalPlaceholders(): PlaceholderLists {
    return this.globals;
  }

  /** Placeholders that would reach a provider as written, because no list gives them a value. */
  missingPlaceholders(): MissingPlaceholder[] {
    return findMissingPlaceholders(this.document.prompts, this.globals);
  }

  /**
   * Replaces the global lists (values trimmed; `{}` removes them). Throws
   * PlaceholderValidationError naming every problem; a refused change changes nothing.
   */
  setGlobalPlaceholders(lists: PlaceholderLists): Promise<PlaceholderLists> {
    return this.queue.run(async () => {
      const globals = validatePlaceholderLists(lists, 'global_placeholders');
      const { global_placeholders: _old, ...rest } = this.document;
      const document: PromptDocument = Object.keys(globals).length > 0 ? { ...rest, global_placeholders: globals } : rest;
      await writeJsonAtomic(this.file, document);
      this.adopt(document);
      this.logger.info('prompts: global placeholders changed', { names: Object.keys(globals) });
      this.warnMissing(document.prompts);
      return globals;
    });
  }

  /**
   * Adds a prompt at the end (trimmed). A full list drops its oldest first. Throws
   * PromptValidationError or DuplicatePromptError.
   */
  add(input: NewPrompt): Promise<PromptEntry> {
    return this.queue.run(async () => {
      const prompt = validatePrompt(input.prompt);
      const negative = validateNegative(input.negative);
      const placeholders = validatePlaceholderLists(input.placeholders, 'placeholders');
      this.refuseDuplicate(prompt);
      let kept = this.document.prompts;
      if (kept.length >= this.maxCount) {
        const dropped = kept.slice(0, kept.length - this.maxCount + 1);
        kept = kept.slice(dropped.length);
        this.logger.info('prompts: list full; dropped the oldest', { dropped: dropped.length });
      }
      const prompts = renumber([...kept, withPlaceholders({ idx: 0, prompt, negative }, placeholders)]);
      await this.save(prompts);
      const added = prompts[prompts.length - 1] as PromptEntry;
      this.logger.info('prompts: added', { count: prompts.length });
      this.warnMissing([added]);
      return added;
    });
  }

  /**
   * Changes the text or lists of one prompt, with the same checks as {@link add}. Extra fields
   * stay. With `expected`, throws PromptVersionMismatchError (changing nothing) unless the
   * prompt at idx has one of its versions; checked in the same queued step as the change.
   */
  update(idx: number, changes: PromptChanges, expected?: PromptExpectation): Promise<PromptEntry> {
    return this.queue.run(async () => {
      const current = this.requireExpected(idx, expected);
      const prompt = changes.prompt === undefined ? current.prompt : validatePrompt(changes.prompt);
      const negative = changes.negative === undefined ? current.negative : validateNegative(changes.negative);
      const placeholders = changes.placeholders === undefined ? undefined : validatePlaceholderLists(changes.placeholders, 'placeholders');
      if (changes.prompt !== undefined) this.refuseDuplicate(prompt, idx);
      let updated: PromptEntry = { ...current, prompt, negative };
      if (placeholders !== undefined) {
        const { placeholders: _old, ...rest } = updated;
        updated = withPlaceholders(rest, placeholders);
      }
      const prompts = this.document.prompts.map((entry) => (entry.idx === idx ? updated : entry));
      await this.save(prompts);
      this.logger.info('prompts: updated', { idx });
      this.warnMissing([updated]);
      return updated;
    });
  }

  /**
   * Removes one prompt; the ones after it move up so the numbers stay 1..N. `expected` as
   * for {@link update}.
   */
  remove(idx: number, expected?: PromptExpectation): Promise<PromptEntry> {
    return this.queue.run(async () => {
      const removed = this.requireExpected(idx, expected);
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

  /** {@link require}, or with an expectation: a missing prompt is a mismatch too (it was removed). */
  private requireExpected(idx: number, expected: PromptExpectation | undefined): PromptEntry {
    if (expected === undefined) return this.require(idx);
    const entry = Number.isInteger(idx) ? this.document.prompts[idx - 1] : undefined;
    const version = entry === undefined ? undefined : promptVersion(entry);
    if (entry === undefined || version === undefined || !expected.versions.includes(version)) {
      throw new PromptVersionMismatchError(idx, version);
    }
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
    this.adopt(document);
  }

  private adopt(document: PromptDocument): void {
    this.document = document;
    this.globals = readPlaceholderLists(document.global_placeholders, 'global_placeholders').lists;
  }

  /** Upstream logs these at start-up too: the prompt still works, but sends `[[name]]` literally. */
  private warnMissing(entries: readonly PromptEntry[]): void {
    for (const { idx, placeholder, field } of findMissingPlaceholders(entries, this.globals)) {
      this.logger.warn('prompts: a placeholder has no values in the prompt or the global lists; it stays as written', {
        idx,
        placeholder,
        field,
      });
    }
  }

  /**
   * Reads the file; `changed` says it must be written back (created, or moved aside), and
   * `setAside` where an unreadable file went and why.
   */
  private async load(): Promise<{ document: PromptDocument; changed: boolean; setAside?: SetAsideFile }> {
    const bytes = await readIfExists(this.file);
    if (bytes === undefined) {
      this.logger.info('prompts: no prompt file; creating one', { file: this.file });
      return { document: defaultDocument(), changed: true };
    }
    let problem: string;
    try {
      // A person may have saved it from an editor: read all that can be read without losing anything.
      const parsed = parsePromptDocument(parseHandEditedJson(decodeHandEditedText(bytes)));
      if ('document' in parsed) return { document: parsed.document, changed: false };
      problem = parsed.problem;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      problem = error instanceof SyntaxError ? `not valid JSON (${reason})` : reason;
    }
    const backup = `${this.file}.corrupt-${fileTimestamp(this.clock.now())}`;
    // Never overwrite a file we cannot read: the user may have hand-edited it and wants it back.
    await rename(this.file, backup);
    this.logger.error('prompts: the prompt file is unreadable; moved it aside and started over', {
      file: this.file,
      problem,
      movedTo: backup,
    });
    return { document: defaultDocument(), changed: true, setAside: { backup, problem } };
  }

  /**
   * Raises the notice when the file was set aside at this open, saying what the list holds
   * now; clears an earlier one when the file was read.
   */
  private tellOwner(setAside: SetAsideFile | undefined, importedFrom: string | undefined): void {
    if (this.notices === undefined) return;
    if (setAside === undefined) {
      this.notices.clear(CORRUPT_NOTICE_KEY);
      return;
    }
    const now = importedFrom === undefined ? 'the single prompt "test"' : `the prompts imported from ${importedFrom}`;
    this.notices.raise(
      CORRUPT_NOTICE_KEY,
      `The prompt list ${this.file} could not be read: ${setAside.problem}. ` +
        `It was moved, unchanged, to ${setAside.backup}, and the list started over with ${now}. ` +
        `To get your prompts back, fix that copy and put it back as ${this.file} while the server is stopped.`,
      'error',
    );
  }
}

/** An unreadable prompts file, moved aside at open. */
interface SetAsideFile {
  readonly backup: string;
  readonly problem: string;
}

/** The file's bytes, or undefined when there is no such file; any other failure is thrown. */
async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Named, so start-up can say which file is wrong (EISDIR on a handle names none).
    throw naming(error, path);
  }
}

/** The entry with these lists, or without the field when there are none (keeps the file minimal, like upstream's omitempty). */
function withPlaceholders<T extends object>(entry: T, placeholders: PlaceholderLists): T {
  return Object.keys(placeholders).length > 0 ? { ...entry, placeholders } : entry;
}
