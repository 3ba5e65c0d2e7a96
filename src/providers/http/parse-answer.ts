import type { z } from 'zod';
import { RemoteError } from './remote-error.js';
import { parseJsonBody, type RemoteResponse } from './remote-http.js';

/**
 * Parses a JSON answer with a minimal schema of the fields the caller reads. A body that is
 * not JSON, or JSON of another shape (a proxy's page, another program on that port), is an
 * invalid response naming the URL and what was wrong: never a crash deeper in.
 */
export function parseAnswer<T extends z.ZodType>(schema: T, response: RemoteResponse, what = 'an answer'): z.output<T> {
  return checkAnswer(schema, parseJsonBody(response), response, what);
}

/**
 * A body read as JSON of `schema`'s shape, or undefined when it is not JSON or not that shape:
 * for error bodies, whose reason is a bonus and never a second failure.
 */
export function jsonBodyAs<T extends z.ZodType>(schema: T, body: Buffer): z.output<T> | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/** Like {@link parseAnswer}, for JSON already parsed (one element of a list, say). */
export function checkAnswer<T extends z.ZodType>(schema: T, value: unknown, response: Pick<RemoteResponse, 'url' | 'status'>, what = 'an answer'): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.map(String).join('.')}` : '';
  throw new RemoteError(`${response.url} answered ${what} of an unexpected shape${where}: ${issue?.message ?? 'invalid'}`, {
    failure: 'invalid-response',
    status: response.status,
    url: response.url,
  });
}
