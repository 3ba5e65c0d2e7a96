import getRawBody from 'raw-body';
import type { Context } from 'koa';
import type { z } from 'zod';
import { badRequest } from './http-error.js';

/** Frame requests are a few dozen bytes; anything near this is not a frame. */
export const JSON_BODY_LIMIT = 64 * 1024;

/**
 * Reads and validates a JSON body. The frame sends `Content-Type: application/json`, but
 * people with curl often do not, so the body is parsed as JSON whatever the header says
 * (as upstream does). Too large: 413 (raw-body). Not JSON or the wrong shape: 400 naming the field.
 */
export async function readJsonBody<T>(ctx: Context, schema: z.ZodType<T>, limit = JSON_BODY_LIMIT): Promise<T> {
  const text = await getRawBody(ctx.req, {
    limit,
    length: ctx.request.length,
    encoding: 'utf8',
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest('Error parsing JSON request', (error as Error).message);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.length ? `${issue.path.map(String).join('.')}: ` : '';
    throw badRequest(`Invalid request: ${field}${issue?.message ?? 'unexpected shape'}`);
  }
  return result.data;
}
