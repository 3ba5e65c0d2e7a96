import { PromptValidationError } from './prompt-errors.js';

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
