/**
 * One-time import of upstream ImageServer's `prompts.yaml` (1.02 and later) into our
 * `prompts.json`. Upstream's format (maxifly/ImageServer,
 * src/internal/pkg/promptmanager/promptmanager.go, examples/prompts_example.yaml):
 *
 *   prompts:
 *     - idx: 1                  # 1.02; later versions write `code: prmt_<...>` instead
 *       prompt: '[[color]] robot holding [[weapon]]'
 *       negative: blurry        # optional
 *       placeholders:           # optional, this prompt's own lists
 *         weapon: [blaster, axe]
 *   global_placeholders:        # optional
 *     color: [red, gold]
 */
import { readFile, rename } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { parseDocument, visit, type Scalar } from 'yaml';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { fileTimestamp, holdsNoUserPrompts, renumber, type PlaceholderLists, type PromptDocument, type PromptEntry } from './prompt-file.js';
import { duplicateKey, readPlaceholderLists, validateNegative, validatePrompt } from './prompt-validation.js';

/** Guards `toJS` against alias bombs ("billion laughs"); a prompt file needs few aliases. */
const MAX_ALIASES = 100;

/** An upstream file turned into our document, before any bound is applied. */
export interface ConvertedUpstream {
  /** Oldest first, idx 1..N. */
  readonly document: PromptDocument;
  /** One line per upstream prompt left out (empty, too long, a repeat), naming why. */
  readonly skipped: readonly string[];
}

export type UpstreamImportResult =
  /** No `prompts.yaml`: nothing to do. */
  | { readonly outcome: 'absent' }
  /** Imported; the yaml was renamed to `backup`. `kept` < `found` when the bound dropped the oldest. */
  | { readonly outcome: 'imported'; readonly document: PromptDocument; readonly backup: string; readonly found: number; readonly kept: number }
  /** `prompts.json` already holds exactly this import (a crash came between writing it and renaming the yaml); the rename is done now. */
  | { readonly outcome: 'finished'; readonly backup: string }
  /** `prompts.json` holds the user's own prompts: it wins, and the yaml is left alone. */
  | { readonly outcome: 'kept-json' }
  /** The yaml cannot be read as upstream prompts: logged, left alone, nothing changed. */
  | { readonly outcome: 'unreadable'; readonly problem: string };

export interface UpstreamImportOptions {
  /** `data/prompts.yaml`. */
  readonly yamlFile: string;
  /** `data/prompts.json`, written before the yaml is renamed, so a crash never loses both. */
  readonly jsonFile: string;
  /** What `prompts.json` holds now (already loaded); the import replaces it only when it holds no user prompts. */
  readonly current: PromptDocument;
  /** Upstream `prompts_amount`: the newest this many are imported. */
  readonly maxCount: number;
  readonly logger: Logger;
  /** Stamps the backup name `prompts.yaml.imported-<time>`. */
  readonly clock: Clock;
}

/**
 * Imports `prompts.yaml` when it exists and `prompts.json` holds no user prompts (missing,
 * empty, or only the default "test"), keeping the newest `maxCount`. The yaml is then
 * renamed to `prompts.yaml.imported-<time>` so it is kept as a backup and never imported
 * twice. When both files hold prompts, prompts.json wins and a warning says how to import.
 */
export async function importUpstreamPrompts(options: UpstreamImportOptions): Promise<UpstreamImportResult> {
  const { yamlFile, jsonFile, logger } = options;
  let text: string;
  try {
    text = await readFile(yamlFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { outcome: 'absent' };
    const problem = `cannot read it (${error instanceof Error ? error.message : String(error)})`;
    logger.error('prompts: cannot import the upstream prompts.yaml; left it as it is', { file: yamlFile, problem });
    return { outcome: 'unreadable', problem };
  }

  const converted = parseUpstreamPrompts(text);
  if ('problem' in converted) {
    logger.error('prompts: cannot import the upstream prompts.yaml; left it as it is', { file: yamlFile, problem: converted.problem });
    return { outcome: 'unreadable', problem: converted.problem };
  }
  const all = converted.document.prompts;
  const found = all.length;
  const bounded: PromptDocument = { ...converted.document, prompts: renumber(all.slice(Math.max(0, found - options.maxCount))) };
  const backup = `${yamlFile}.imported-${fileTimestamp(options.clock.now())}`;

  if (!holdsNoUserPrompts(options.current)) {
    if (sameContent(options.current, bounded)) {
      if (await keepAsBackup(yamlFile, backup, logger)) {
        logger.info('prompts: finished an earlier import of prompts.yaml; renamed it', { file: yamlFile, movedTo: backup });
      }
      return { outcome: 'finished', backup };
    }
    logger.warn('prompts: both prompts.yaml (upstream) and prompts.json hold prompts; using prompts.json and leaving prompts.yaml alone. To import it instead, move prompts.json away and restart', {
      yaml: yamlFile,
      json: jsonFile,
    });
    return { outcome: 'kept-json' };
  }

  for (const reason of converted.skipped) logger.warn('prompts: an upstream prompt was not imported', { file: yamlFile, reason });
  if (found > options.maxCount) {
    logger.warn('prompts: the upstream prompts.yaml holds more prompts than allowed; imported the newest (all stay in the backup)', {
      found,
      kept: options.maxCount,
      backup,
    });
  }
  await writeJsonAtomic(jsonFile, bounded);
  const renamed = await keepAsBackup(yamlFile, backup, logger);
  logger.info('prompts: imported the upstream prompts.yaml into prompts.json', {
    from: yamlFile,
    to: jsonFile,
    count: bounded.prompts.length,
    ...(renamed ? { movedTo: backup } : {}),
  });
  return { outcome: 'imported', document: bounded, backup, found, kept: bounded.prompts.length };
}

/**
 * Renames the imported yaml so it is not imported again. A failure (a read-only mount, say)
 * is logged, not thrown: prompts.json now holds the same prompts, so the next start sees
 * an import already done and only tries the rename again.
 */
async function keepAsBackup(yamlFile: string, backup: string, logger: Logger): Promise<boolean> {
  try {
    await rename(yamlFile, backup);
    return true;
  } catch (error) {
    logger.warn('prompts: could not rename the imported prompts.yaml; rename or delete it by hand', {
      file: yamlFile,
      to: backup,
      error: error instanceof Error ? error.message : String(error),
    });
    return false;
  }
}

/**
 * Turns upstream yaml text into our document: entries oldest first (by `idx`, or by the
 * `code` later upstream versions write), texts trimmed, scalars kept as written (`1.0`,
 * `yes`, `0x1F` stay text, as upstream's Go decoder keeps them in string fields). Entries
 * we would refuse on add (empty, too long, a repeat of a newer one) are skipped with a
 * reason. Returns `problem` when the text is not an upstream prompt file at all.
 */
export function parseUpstreamPrompts(text: string): ConvertedUpstream | { problem: string } {
  const doc = parseDocument(text, { prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError !== undefined) return { problem: `not valid YAML (${firstError.message})` };
  // Plain scalars become their source text, so a number-looking value is not reformatted.
  visit(doc, {
    Scalar(_key, node: Scalar) {
      const source = (node as Scalar.Parsed).source;
      if (node.value !== null && typeof node.value !== 'string' && typeof source === 'string') node.value = source;
    },
  });
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
  if (!isObject(raw)) return { problem: 'the top level is not a mapping' };
  if (!Array.isArray(raw.prompts)) return { problem: 'there is no "prompts" list' };

  const globals = readPlaceholderLists(withoutBlankItems(raw.global_placeholders), 'global_placeholders');
  if (globals.problems.length > 0) return { problem: globals.problems.join('; ') };

  const candidates: Array<{ entry: UpstreamEntry; age: AgeKey; label: string }> = [];
  const skipped: string[] = [];
  for (const [position, item] of raw.prompts.entries()) {
    const label = `prompts[${position}]`;
    if (!isObject(item)) return { problem: `${label} is not a mapping` };
    const own = readPlaceholderLists(withoutBlankItems(item.placeholders), `${label}.placeholders`);
    if (own.problems.length > 0) return { problem: own.problems.join('; ') };
    let prompt: string;
    let negative: string;
    try {
      prompt = validatePrompt(item.prompt ?? '');
      negative = validateNegative(item.negative);
    } catch (error) {
      skipped.push(`${label}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const entry: UpstreamEntry = Object.keys(own.lists).length > 0 ? { prompt, negative, placeholders: own.lists } : { prompt, negative };
    candidates.push({ entry, age: ageKey(item, position), label });
  }
  candidates.sort((a, b) => compareAge(a.age, b.age));

  // Upstream refuses a repeated prompt only on add; a hand-edited file may hold one. Keep the newest.
  const seen = new Set<string>();
  const kept: UpstreamEntry[] = [];
  for (const candidate of [...candidates].reverse()) {
    const key = duplicateKey(candidate.entry.prompt);
    if (seen.has(key)) {
      skipped.push(`${candidate.label}: repeats a newer prompt`);
      continue;
    }
    seen.add(key);
    kept.unshift(candidate.entry);
  }
  if (kept.length === 0) return { problem: 'it holds no usable prompt' };

  const prompts = kept.map((entry, i): PromptEntry => ({ idx: i + 1, ...entry }));
  const document: PromptDocument =
    Object.keys(globals.lists).length > 0 ? { prompts, global_placeholders: globals.lists } : { prompts };
  return { document, skipped };
}

/** One upstream prompt as we store it, before it gets its idx. */
interface UpstreamEntry {
  readonly prompt: string;
  readonly negative: string;
  readonly placeholders?: PlaceholderLists;
}

/**
 * How old an upstream entry is: 1.02 numbers them (`idx`, lowest oldest); later versions
 * write `code`, either `prmt_<old idx>` (migrated) or `prmt_YYYY_MM_DD_HH_MM_SS` (added
 * since, so newer than every migrated one). Anything else keeps its place in the file.
 */
type AgeKey = readonly [group: number, order: number | string, position: number];

function ageKey(item: Record<string, unknown>, position: number): AgeKey {
  const idx = typeof item.idx === 'string' ? Number(item.idx) : NaN;
  if (Number.isFinite(idx)) return [0, idx, position];
  const code = typeof item.code === 'string' ? item.code : '';
  const migrated = /^prmt_(\d+)$/.exec(code);
  if (migrated) return [0, Number(migrated[1]), position];
  if (/^prmt_\d{4}(_\d{2}){5}$/.test(code)) return [1, code, position];
  return [2, position, position];
}

function compareAge(a: AgeKey, b: AgeKey): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] - b[2];
}

/**
 * Drops blank items (`-`, `~`, `""`) from placeholder lists, and reads a bare `name:` as an
 * empty list. Upstream's Go decoder turns a blank item into "", which fills the placeholder
 * with nothing; our lists hold only non-empty values.
 */
function withoutBlankItems(value: unknown): unknown {
  if (!isObject(value)) return value;
  const isBlank = (item: unknown): boolean => item === null || (typeof item === 'string' && item.trim() === '');
  return Object.fromEntries(
    Object.entries(value).map(([name, list]) => [name, list === null ? [] : Array.isArray(list) ? list.filter((item) => !isBlank(item)) : list]),
  );
}

/** The same prompts, negatives and lists: what a finished import would have written. */
function sameContent(current: PromptDocument, imported: PromptDocument): boolean {
  const project = (document: PromptDocument): unknown => ({
    prompts: document.prompts.map((entry) => [entry.prompt, entry.negative, entry.placeholders ?? {}]),
    globals: document.global_placeholders ?? {},
  });
  return isDeepStrictEqual(project(current), project(imported));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
