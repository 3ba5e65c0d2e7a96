import { PICTURE_NAME_PATTERN } from '../../library/picture-name.js';
import { badRequest, HttpError } from '../http-error.js';

/** A picture name from the URL; refuses anything that could not be one (and could escape a folder). */
export function pictureNameParam(raw: string | undefined): string {
  if (raw === undefined || !PICTURE_NAME_PATTERN.test(raw)) {
    throw badRequest('Invalid picture name', 'a picture name is 1 to 200 characters from A-Z, a-z, 0-9, ".", "_" and "-"');
  }
  return raw;
}

/** A prompt id from the URL: its number in the list, 1 and up. */
export function promptIdParam(raw: string | undefined): number {
  if (raw === undefined || !/^\d{1,6}$/.test(raw) || Number(raw) < 1) {
    throw badRequest('Invalid prompt id', 'a prompt id is a whole number from 1 up, as listed by GET /api/prompts');
  }
  return Number(raw);
}

export function notFound(message: string): HttpError {
  return new HttpError(404, 'NotFound', message);
}

/** A whole number from a query string, within bounds; the message names the parameter. */
export function queryInteger(raw: string | string[] | undefined, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const text = Array.isArray(raw) ? (raw[0] ?? '') : raw;
  if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw badRequest(`Invalid request: ${name}: expected a whole number from ${min} to ${max}`);
  }
  return Number(text);
}
