/**
 * Reading a JSON file that a person may have saved from an editor. Forgiven, because nothing
 * is lost by reading past it: a byte order mark, UTF-16 (Windows Notepad's "Unicode"),
 * trailing commas before `]` or `}`, and a line break or tab typed inside a string. Not
 * forgiven: comments (a rewrite would drop them) and bytes that are not UTF-8 (reading them
 * anyway turns every such letter into U+FFFD, and the next save would keep only that).
 */

/** The file's bytes are not text this reader can decode without guessing. */
export class NotUtf8Error extends Error {
  override readonly name = 'NotUtf8Error';
}

/**
 * Decodes a file's bytes: UTF-8 with or without a byte order mark, or UTF-16 with one.
 * Throws NotUtf8Error, naming the line, when the bytes are not valid UTF-8.
 */
export function decodeHandEditedText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16le').decode(swapBytePairs(bytes.subarray(2)));
  try {
    // The decoder drops a UTF-8 byte order mark itself.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const lossy = new TextDecoder('utf-8').decode(bytes);
    const { line } = lineAndColumn(lossy, Math.max(0, lossy.indexOf('\uFFFD')));
    throw new NotUtf8Error(`the file is not UTF-8 text (first odd byte on line ${line}); save it again as UTF-8`);
  }
}

/**
 * JSON.parse, forgiving what {@link decodeHandEditedText}'s module comment lists. Throws a
 * SyntaxError that names the line and column in the text as the person sees it.
 */
export function parseHandEditedJson(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch {
    const repaired = repairJsonText(body);
    try {
      return JSON.parse(repaired.text);
    } catch (error) {
      // The repaired text's error, placed back in the original: it is what is still wrong.
      throw new SyntaxError(describeJsonError(error, body, repaired.origin));
    }
  }
}

/**
 * Drops commas that stand before `]` or `}` and escapes raw control characters inside
 * strings. `origin[i]` is the index in `text` that character `i` of the result came from.
 */
function repairJsonText(text: string): { text: string; origin: number[] } {
  const out: string[] = [];
  const origin: number[] = [];
  const push = (piece: string, from: number): void => {
    for (const char of piece) {
      out.push(char);
      origin.push(from);
    }
  };
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (inString) {
      if (escaped) escaped = false;
      else if (char === '\\') escaped = true;
      else if (char === '"') inString = false;
      else if (char < ' ') {
        push(escapeControl(char), i);
        continue;
      }
      push(char, i);
      continue;
    }
    if (char === '"') inString = true;
    else if (char === ',' && closesNext(text, i + 1)) continue;
    push(char, i);
  }
  return { text: out.join(''), origin };
}

/** True when the next character after JSON whitespace closes an array or object. */
function closesNext(text: string, from: number): boolean {
  let i = from;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return text[i] === ']' || text[i] === '}';
}

function escapeControl(char: string): string {
  switch (char) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\b':
      return '\\b';
    case '\f':
      return '\\f';
    default:
      return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

/** V8's message with "at position N" turned into the line and column of the original text. */
function describeJsonError(error: unknown, original: string, origin: readonly number[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message);
  if (position) {
    const at = origin[Number(position[1])] ?? original.length;
    const { line, column } = lineAndColumn(original, at);
    const reason = message.slice(0, position.index).replace(/\s*in JSON\s*$/, '');
    return `${reason} at line ${line}, column ${column}`;
  }
  if (/end of JSON input/.test(message)) {
    return `the text ends before the JSON does (a missing "]", "}" or quote; the text stops at line ${lineAndColumn(original, original.length).line})`;
  }
  return message;
}

/** 1-based line and column of `index`; CRLF counts as one line end. */
function lineAndColumn(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index && i < text.length; i++) {
    if (text[i] === '\n') {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: index - lineStart + 1 };
}

function swapBytePairs(bytes: Uint8Array): Uint8Array {
  const swapped = new Uint8Array(bytes.length - (bytes.length % 2));
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    swapped[i] = bytes[i + 1] as number;
    swapped[i + 1] = bytes[i] as number;
  }
  return swapped;
}
