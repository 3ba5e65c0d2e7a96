import { PromptValidationError } from './prompt-errors.js';
import type { PlaceholderLists, PromptDocument } from './prompt-file.js';

/** Longest prompt or negative prompt accepted, in characters. */
export const MAX_PROMPT_LENGTH = 2000;

/** Trims a prompt and refuses an empty or overlong one. */
export function validatePrompt(prompt: unknown): string {
  if (typeof prompt !== 'string') throw new PromptValidationError('the prompt must be text', 'prompt');
  const trimmed = prompt.trim();
  if (trimmed === '') throw new PromptValidationError('the prompt is empty', 'prompt');
  if (trimmed.length > MAX_PROMPT_LENGTH) {
    throw new PromptValidationError(
      `the prompt is ${trimmed.length} characters long; at most ${MAX_PROMPT_LENGTH} are allowed`,
      'prompt',
    );
  }
  return trimmed;
}

/** Trims a negative prompt (absent means empty) and refuses an overlong one. */
export function validateNegative(negative: unknown): string {
  if (negative === undefined || negative === null) return '';
  if (typeof negative !== 'string') throw new PromptValidationError('the negative prompt must be text', 'negative');
  const trimmed = negative.trim();
  if (trimmed.length > MAX_PROMPT_LENGTH) {
    throw new PromptValidationError(
      `the negative prompt is ${trimmed.length} characters long; at most ${MAX_PROMPT_LENGTH} are allowed`,
      'negative',
    );
  }
  return trimmed;
}

/** The key two prompts are compared by: same words, ignoring case and spacing. */
export function duplicateKey(prompt: string): string {
  return prompt.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** What may stand between `[[` and `]]` (upstream's templater accepts exactly these). */
export const PLACEHOLDER_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Names every JavaScript object already answers to. Lists under them still work when found
 * in a file (they are read as own properties), but new ones are refused: tools that treat
 * the lists as plain objects drop or misread them (zod strips `__proto__` from a record,
 * which is how such a list used to vanish without a word).
 */
export const RESERVED_PLACEHOLDER_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Why `name` cannot name a new placeholder list; undefined when it can. */
export function reservedNameReason(name: string): string | undefined {
  return RESERVED_PLACEHOLDER_NAMES.has(name) ? `"${name}" cannot be a placeholder name (JavaScript reserves it); choose another name` : undefined;
}

/** Which placeholder field was refused. */
export type PlaceholderField = 'placeholders' | 'global_placeholders';

/**
 * Placeholder lists that cannot be stored. Kept apart from PromptValidationError, whose
 * `field` names only the two texts; the message is safe to show a user, like that one's.
 */
export class PlaceholderValidationError extends Error {
  override readonly name = 'PlaceholderValidationError';
  constructor(
    message: string,
    readonly field: PlaceholderField,
    /** Every problem found, each naming its place (`placeholders.color[1] is empty`). */
    readonly problems: readonly string[],
  ) {
    super(message);
  }
}

/**
 * Reads placeholder lists as found in a file, without throwing: returns the lists that are
 * well formed and one line per problem, naming its place under `where`. A bad list is left
 * out whole (never half used); absent (undefined or null) means no lists and no problem.
 * An empty list is allowed: its placeholder simply stays as written.
 */
export function readPlaceholderLists(value: unknown, where: string): { lists: PlaceholderLists; problems: string[] } {
  if (value === undefined || value === null) return { lists: {}, problems: [] };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { lists: {}, problems: [`${where} must be an object of lists, like {"color": ["red", "blue"]}`] };
  }
  const problems: string[] = [];
  const good: Array<[string, readonly string[]]> = [];
  for (const [name, list] of Object.entries(value)) {
    const found = listProblems(name, list, `${where}.${name}`);
    if (found.length === 0) good.push([name, list as string[]]);
    else problems.push(...found);
  }
  // fromEntries defines own properties, so even a "__proto__" name stays plain data.
  return { lists: Object.fromEntries(good), problems };
}

/**
 * Checks placeholder lists sent by a user (trimming each value) and throws
 * PlaceholderValidationError naming every problem, reserved names too
 * ({@link RESERVED_PLACEHOLDER_NAMES}). Undefined and null mean "none": `{}`.
 */
export function validatePlaceholderLists(value: unknown, field: PlaceholderField): PlaceholderLists {
  const trimmed =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value).map(([name, list]) => [
            name,
            Array.isArray(list) ? list.map((item: unknown) => (typeof item === 'string' ? item.trim() : item)) : list,
          ]),
        )
      : value;
  const { lists, problems } = readPlaceholderLists(trimmed, field);
  if (typeof trimmed === 'object' && trimmed !== null) {
    for (const name of Object.keys(trimmed)) {
      const reason = reservedNameReason(name);
      if (reason !== undefined) problems.push(`${field}.${name}: ${reason}`);
    }
  }
  if (problems.length > 0) {
    throw new PlaceholderValidationError(problems.join('; '), field, problems);
  }
  return lists;
}

/** Every problem with the placeholder lists of a loaded document, each naming its place. */
export function documentPlaceholderProblems(document: PromptDocument): string[] {
  const problems = readPlaceholderLists(document.global_placeholders, 'global_placeholders').problems;
  for (const entry of document.prompts) {
    problems.push(...readPlaceholderLists(entry.placeholders, `prompts[idx ${entry.idx}].placeholders`).problems);
  }
  return problems;
}

function listProblems(name: string, list: unknown, where: string): string[] {
  const problems: string[] = [];
  if (!PLACEHOLDER_NAME.test(name)) {
    problems.push(`${where}: "${name}" cannot be a placeholder name (letters, digits, "_" and "-" only)`);
  }
  if (!Array.isArray(list)) {
    problems.push(`${where} must be a list of text values`);
    return problems;
  }
  for (const [i, item] of list.entries()) {
    if (typeof item !== 'string') problems.push(`${where}[${i}] is not text`);
    else if (item.trim() === '') problems.push(`${where}[${i}] is empty`);
    else if (item.length > MAX_PROMPT_LENGTH) {
      problems.push(`${where}[${i}] is ${item.length} characters long; at most ${MAX_PROMPT_LENGTH} are allowed`);
    }
  }
  return problems;
}
