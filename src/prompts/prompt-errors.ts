/** A prompt or negative prompt that cannot be stored: empty, or too long. The message is safe to show a user. */
export class PromptValidationError extends Error {
  override readonly name = 'PromptValidationError';
  constructor(
    message: string,
    /** Which field was refused. */
    readonly field: 'prompt' | 'negative',
  ) {
    super(message);
  }
}

/** The prompt is already in the list (same words, ignoring case and spacing). */
export class DuplicatePromptError extends Error {
  override readonly name = 'DuplicatePromptError';
  constructor(
    /** The idx of the prompt already there. */
    readonly existingIdx: number,
  ) {
    super(`this prompt is already in the list (number ${existingIdx})`);
  }
}

/** No prompt has this idx (it was removed, or the list was renumbered). */
export class PromptNotFoundError extends Error {
  override readonly name = 'PromptNotFoundError';
  constructor(readonly idx: number) {
    super(`there is no prompt number ${idx}`);
  }
}
