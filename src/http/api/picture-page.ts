import type { PictureMeta } from '../../library/picture.js';
import { PICTURE_NAME_PATTERN } from '../../library/picture-name.js';

export const DEFAULT_PAGE_SIZE = 48;
export const MAX_PAGE_SIZE = 200;

/** Where a page ended: the creation time and name of its last picture (the library's sort key). */
interface CursorKey {
  readonly at: number;
  readonly name: string;
}

/**
 * The cursor is the sort key of the last picture given, not an offset: pictures added or
 * deleted between two requests neither repeat nor skip any, and finding the next page is a
 * binary search over the index, as fast with ten thousand pictures as with ten. Opaque to
 * clients (base64url), so its form may change.
 */
export function encodeCursor(meta: PictureMeta): string {
  return Buffer.from(`${Date.parse(meta.createdAt)}:${meta.name}`, 'utf8').toString('base64url');
}

/** The key in a cursor, or undefined when it is not one this server gave. */
export function decodeCursor(cursor: string): CursorKey | undefined {
  if (cursor.length > 400 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(-?\d{1,16}):(.+)$/.exec(text);
  if (match === null) return undefined;
  const at = Number(match[1]);
  const name = match[2] as string;
  if (!Number.isSafeInteger(at) || !PICTURE_NAME_PATTERN.test(name)) return undefined;
  return { at, name };
}

/**
 * One page of `pictures` (newest first, as ImageLibrary.list() orders them: creation time
 * descending, then name descending) after the cursor's key.
 */
export function pageAfter(
  pictures: readonly PictureMeta[],
  after: CursorKey | undefined,
  limit: number,
): { pictures: readonly PictureMeta[]; next: string | null } {
  const start = after === undefined ? 0 : firstAfter(pictures, after);
  const page = pictures.slice(start, start + limit);
  const last = page[page.length - 1];
  const more = start + page.length < pictures.length;
  return { pictures: page, next: more && last !== undefined ? encodeCursor(last) : null };
}

/** The index of the first picture that sorts after `key`; pictures.length when none does. */
function firstAfter(pictures: readonly PictureMeta[], key: CursorKey): number {
  let low = 0;
  let high = pictures.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const meta = pictures[middle] as PictureMeta;
    const at = Date.parse(meta.createdAt);
    const isAfter = at < key.at || (at === key.at && meta.name < key.name);
    if (isAfter) high = middle;
    else low = middle + 1;
  }
  return low;
}
