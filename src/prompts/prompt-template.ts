/**
 * Prompt templates, as upstream ImageServer 1.02 has them: `[[name]]` in a prompt is
 * replaced by a value drawn at random from the prompt's own `placeholders.name` list,
 * else from `global_placeholders.name`. Upstream: maxifly/ImageServer,
 * src/internal/pkg/templater/templater.go and promptmanager/promptmanager.go.
 */
import type { PlaceholderLists, PromptEntry } from './prompt-file.js';
import { readPlaceholderLists } from './prompt-validation.js';

/** Upstream's pattern; the name may hold letters, digits, `_` and `-`. */
const PLACEHOLDER = /\[\[([A-Za-z0-9_-]+)\]\]/g;

/** What a template is filled from; a stored {@link PromptEntry} is one. */
export interface TemplateSource {
  readonly prompt: string;
  readonly negative?: string;
  /** The prompt's own lists; a malformed value is ignored (the store logged it at load). */
  readonly placeholders?: unknown;
}

/** A prompt ready to send, and the template it came from (the same text when it has no placeholders). */
export interface FilledPrompt {
  readonly prompt: string;
  readonly template: string;
  /** Filled like the prompt; absent when the entry has no negative prompt. */
  readonly negative?: string;
}

/** A placeholder that no list gives a value to, so it reaches the provider as written. */
export interface MissingPlaceholder {
  readonly idx: number;
  readonly placeholder: string;
  readonly field: 'prompt' | 'negative';
}

/** The distinct placeholder names in a text, in order of first appearance. */
export function placeholderNames(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(PLACEHOLDER), (match) => match[1] as string))];
}

export function hasPlaceholders(text: string): boolean {
  return placeholderNames(text).length > 0;
}

/**
 * Replaces every `[[name]]` with a value drawn from `local`, else `global` (a name whose
 * list is missing or empty falls through to the next). Each occurrence is drawn on its own,
 * so `[[color]] cat, [[color]] eyes` may get two colours. A name with no values stays as
 * written. One pass over the template: a value that itself contains `[[x]]` is not expanded
 * again (upstream runs two passes, local then global, so there it sometimes would be).
 */
export function fillTemplate(
  template: string,
  local: PlaceholderLists,
  global: PlaceholderLists,
  random: () => number = Math.random,
): string {
  // A replacer function, not a replacement string: values with `$&` or `$1` stay literal.
  return template.replace(PLACEHOLDER, (match, name: string) => {
    const values = valuesFor(name, local, global);
    return values === undefined ? match : draw(values, random);
  });
}

/**
 * Fills a stored prompt: its own lists first, then the global ones. The negative prompt is
 * filled too. Upstream 1.02 sends the negative as written, which would hand a provider a
 * literal `[[name]]`; a negative without placeholders comes out the same either way.
 */
export function fillPrompt(entry: TemplateSource, globals: PlaceholderLists, random: () => number = Math.random): FilledPrompt {
  const local = readPlaceholderLists(entry.placeholders, 'placeholders').lists;
  const prompt = fillTemplate(entry.prompt, local, globals, random);
  const negative = entry.negative === undefined || entry.negative === '' ? undefined : fillTemplate(entry.negative, local, globals, random);
  return negative === undefined ? { prompt, template: entry.prompt } : { prompt, template: entry.prompt, negative };
}

/**
 * Every placeholder, per prompt and text, that would stay as written because neither the
 * prompt's lists nor the global ones give it a value. Upstream logs these at start-up.
 */
export function findMissingPlaceholders(entries: readonly PromptEntry[], globals: PlaceholderLists): MissingPlaceholder[] {
  const missing: MissingPlaceholder[] = [];
  for (const entry of entries) {
    const local = readPlaceholderLists(entry.placeholders, 'placeholders').lists;
    for (const field of ['prompt', 'negative'] as const) {
      for (const placeholder of placeholderNames(entry[field])) {
        if (valuesFor(placeholder, local, globals) === undefined) missing.push({ idx: entry.idx, placeholder, field });
      }
    }
  }
  return missing;
}

function valuesFor(name: string, local: PlaceholderLists, global: PlaceholderLists): readonly string[] | undefined {
  // Own properties only: "constructor" or "__proto__" are valid names, not Object's members.
  for (const lists of [local, global]) {
    const values = Object.hasOwn(lists, name) ? lists[name] : undefined;
    if (values !== undefined && values.length > 0) return values;
  }
  return undefined;
}

function draw(values: readonly string[], random: () => number): string {
  const index = Math.min(values.length - 1, Math.max(0, Math.floor(random() * values.length)));
  return values[index] as string;
}
