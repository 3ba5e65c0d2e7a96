/**
 * The shape of `data/prompts.json`, upstream ImageServer's format:
 * `{"prompts":[{"idx":1,"prompt":"...","negative":"..."}]}`, plus the optional template
 * lists of upstream 1.02 (which keeps them in `prompts.yaml` under the same names):
 * `placeholders` per prompt and `global_placeholders` for the whole file, each
 * `{"name": ["value", ...]}`.
 */

/** Values for `[[name]]` placeholders: name to the list one value is drawn from. */
export type PlaceholderLists = Readonly<Record<string, readonly string[]>>;

/** One prompt. Fields beyond these are kept as they are. */
export interface PromptEntry {
  /** 1..N in list order, without gaps; the lowest is the oldest. */
  readonly idx: number;
  readonly prompt: string;
  /** Empty when there is none. */
  readonly negative: string;
  /**
   * This prompt's own lists, used before the global ones. Typed `unknown` on purpose: a
   * hand-edited file may hold a bad one, which is kept (never lost on save) but not used;
   * read it through `readPlaceholderLists`.
   */
  readonly placeholders?: unknown;
  readonly [extra: string]: unknown;
}

/** The whole document; top-level fields other than `prompts` are kept too. */
export interface PromptDocument {
  readonly prompts: readonly PromptEntry[];
  /** Lists shared by every prompt; `unknown` for the same reason as {@link PromptEntry.placeholders}. */
  readonly global_placeholders?: unknown;
  readonly [extra: string]: unknown;
}

export const DEFAULT_PROMPT = 'test';

export function defaultDocument(): PromptDocument {
  return { prompts: [{ idx: 1, prompt: DEFAULT_PROMPT, negative: '' }] };
}

/**
 * True when the document holds nothing a person wrote: no prompts, or only the "test"
 * prompt we create, and no global lists. Such a file may be replaced by an import.
 */
export function holdsNoUserPrompts(document: PromptDocument): boolean {
  if (hasContent(document.global_placeholders)) return false;
  if (document.prompts.length === 0) return true;
  if (document.prompts.length > 1) return false;
  const only = document.prompts[0] as PromptEntry;
  return only.prompt === DEFAULT_PROMPT && only.negative === '' && !hasContent(only.placeholders);
}

/** `20260115T120000123Z`: file-name safe on every OS, sorts by time. Stamps backup names. */
export function fileTimestamp(at: Date): string {
  return at.toISOString().replace(/[-:.]/g, '');
}

/**
 * Checks a parsed file's shape. Returns the reason it is not a prompt document, or the
 * document with entries ordered by idx (array order breaks ties) and a missing negative
 * filled in as empty. Read as a person may have written it: an idx in quotes (`"2"`) is
 * that number, and an entry without one stays after the entry before it in the file.
 * Renumbering is the caller's job.
 */
export function parsePromptDocument(raw: unknown): { document: PromptDocument } | { problem: string } {
  if (!isObject(raw)) return { problem: 'the top level is not a JSON object' };
  if (!Array.isArray(raw.prompts)) return { problem: 'there is no "prompts" array' };
  const entries: PromptEntry[] = [];
  let previousIdx = 0;
  for (const [position, entry] of raw.prompts.entries()) {
    if (!isObject(entry)) return { problem: `prompts[${position}] is not an object` };
    if (typeof entry.prompt !== 'string') return { problem: `prompts[${position}].prompt is not text` };
    const idx = entry.idx === undefined || entry.idx === null ? previousIdx : readIdx(entry.idx);
    if (idx === undefined) return { problem: `prompts[${position}].idx is not a number` };
    if (entry.negative !== undefined && entry.negative !== null && typeof entry.negative !== 'string') {
      return { problem: `prompts[${position}].negative is not text` };
    }
    entries.push({ ...entry, idx, prompt: entry.prompt, negative: entry.negative ?? '' });
    previousIdx = idx;
  }
  // Array.prototype.sort is stable: entries with equal idx keep their file order.
  entries.sort((a, b) => a.idx - b.idx);
  return { document: { ...raw, prompts: entries } };
}

/** A finite number, or text that is one (`"2"`, `" 3 "`); undefined for anything else. */
function readIdx(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

/** Gives entries idx 1..N in their current order; returns the same objects when already numbered. */
export function renumber(entries: readonly PromptEntry[]): PromptEntry[] {
  return entries.map((entry, i) => (entry.idx === i + 1 ? entry : { ...entry, idx: i + 1 }));
}

function hasContent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  return !isObject(value) || Object.keys(value).length > 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
