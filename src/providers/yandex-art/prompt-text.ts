/**
 * The text and shape of one YandexART request: the prompt with the negative appended the way
 * upstream does it, cut to the API's limit, and the frame's aspect ratio in lowest terms.
 */

/** YandexART refuses longer prompts with HTTP 400 (`../shared/provider-apis.md` 1.3, 1.7). */
export const MAX_PROMPT_CHARS = 500;

/**
 * YandexART has no working negative prompt (negative weights are "currently not supported"),
 * so upstream ImageServer appends the negative to the text with these words (`ydart.go
 * getPrompt()`): "Ignore the following:".
 */
export const DEFAULT_NEGATIVE_PREFIX = '. Игнорировать следующее: ';

export interface PromptText {
  /** What goes into `messages[0].text`. */
  readonly text: string;
  /** The prompt part of `text`: the request's prompt, cut when it alone was over the limit. */
  readonly prompt: string;
  /** Set when something was cut or dropped to fit the limit: a sentence for the log. */
  readonly warning?: string;
}

/**
 * Joins prompt and negative within {@link MAX_PROMPT_CHARS} characters (code points, so a
 * cut never splits a surrogate pair). The prompt matters more than the negative: the
 * negative is shortened or dropped first, and the prompt is cut only when it alone is too long.
 */
export function buildPromptText(prompt: string, negative: string | undefined, prefix = DEFAULT_NEGATIVE_PREFIX, limit = MAX_PROMPT_CHARS): PromptText {
  const promptChars = Array.from(prompt.trim());
  const negativeChars = Array.from(negative?.trim() ?? '');
  if (promptChars.length > limit) {
    const cut = promptChars.slice(0, limit).join('').trimEnd();
    const dropped = negativeChars.length > 0 ? '; the negative prompt was left out' : '';
    return { text: cut, prompt: cut, warning: `the prompt has ${promptChars.length} characters and YandexART takes ${limit}: it was cut${dropped}` };
  }
  const whole = promptChars.join('');
  if (negativeChars.length === 0) return { text: whole, prompt: whole };
  const prefixChars = Array.from(prefix);
  const room = limit - promptChars.length - prefixChars.length;
  if (room >= negativeChars.length) return { text: whole + prefix + negativeChars.join(''), prompt: whole };
  // A negative cut to a stub says little; below a few characters it is left out.
  if (room < 8) {
    return { text: whole, prompt: whole, warning: `prompt and negative prompt together exceed YandexART's ${limit} characters: the negative prompt was left out` };
  }
  const shortened = negativeChars.slice(0, room).join('').trimEnd();
  return {
    text: whole + prefix + shortened,
    prompt: whole,
    warning: `prompt and negative prompt together exceed YandexART's ${limit} characters: the negative prompt was cut`,
  };
}

/** The frame's width:height in lowest terms (320×480 → 2:3): YandexART takes ratios, not pixels. */
export function aspectRatio(width: number, height: number): { widthRatio: number; heightRatio: number } {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`the frame size ${width}x${height} is not a size`);
  }
  const divisor = gcd(width, height);
  return { widthRatio: width / divisor, heightRatio: height / divisor };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
