import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { UnknownTypeError, type FrameService } from '../operations/frame-service.js';
import { OPERATION_ID_PATTERN } from '../operations/operation-store.js';
import type { Operation } from '../operations/operation.js';
import { DuplicatePromptError, PromptValidationError } from '../prompts/prompt-errors.js';
import type { PromptStore } from '../prompts/prompt-store.js';
import { MAX_PROMPT_LENGTH, PlaceholderValidationError } from '../prompts/prompt-validation.js';
import { badRequest } from './http-error.js';
import { placeholderListsBody } from './placeholder-lists-body.js';
import { readJsonBody } from './read-json-body.js';

/** upstream's default `?chunk_size=` (firmware contract). */
export const DEFAULT_CHUNK_SIZE = 512;
const MAX_CHUNK_SIZE = 1024 * 1024;

const promptText = z
  .string({ error: 'expected a string' })
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(MAX_PROMPT_LENGTH, { error: `must be at most ${MAX_PROMPT_LENGTH} characters` });
const negativeText = z
  .string({ error: 'expected a string' })
  .trim()
  .max(MAX_PROMPT_LENGTH, { error: `must be at most ${MAX_PROMPT_LENGTH} characters` })
  .transform((text) => (text === '' ? undefined : text));

const startSchema = z.object({
  type: z.string({ error: 'expected a string like "auto"' }).min(1, { error: 'must not be empty' }).max(64, { error: 'is too long' }),
  prompt: promptText.optional(),
  negative: negativeText.optional(),
});

// Fields not named here (a future firmware's `style`) are dropped by zod, never refused.
// `placeholders` is not upstream's; it is read the same way as in the JSON API.
const addPromptSchema = z.object({ prompt: promptText, negative: negativeText.optional(), placeholders: placeholderListsBody.nullable().optional() });

export interface FrameRoutesOptions {
  readonly frames: FrameService;
  readonly prompts: PromptStore;
}

/**
 * The frame's API, byte-compatible with upstream ImageServer. The bodies are written out by
 * hand because the firmware reads them as a byte stream: key order matters
 * (`../shared/firmware-contract.md`).
 */
export function frameRoutes({ frames, prompts }: FrameRoutesOptions): Router {
  const router = new Router();

  router.post('/operation/start', async (ctx) => {
    const body = await readJsonBody(ctx, startSchema);
    let operation: Operation;
    try {
      operation = frames.start({
        type: body.type,
        ...(body.prompt === undefined ? {} : { prompt: body.prompt }),
        ...(body.negative === undefined ? {} : { negative: body.negative }),
      });
    } catch (error) {
      if (error instanceof UnknownTypeError) throw badRequest('Invalid operation type', error.message);
      throw error;
    }
    // Always "pending": the frame polls the result 30 s later; a tiny body fits its 200-byte parse.
    sendJson(ctx, 200, `{"id":${JSON.stringify(operation.id)},"status":"pending"}`);
  });

  router.get('/operation/status/:id', (ctx) => {
    const id = validId(ctx.params.id);
    const operation = frames.get(id);
    if (!operation) {
      sendJson(ctx, 200, JSON.stringify({ id, status: 'error', error: { code: 'NotFound', message: 'Unknown or expired operation', dev_message: '' } }));
      return;
    }
    const progress = operation.status === 'pending' && operation.progress ? { progress: { step: operation.progress.step, total: operation.progress.total } } : {};
    sendJson(ctx, 200, JSON.stringify({ id, status: operation.status, ...progress }));
  });

  router.get('/operation/result/:id', async (ctx) => {
    const id = validId(ctx.params.id);
    const chunkSize = parseChunkSize(ctx.query.chunk_size);
    const operation = frames.get(id);
    // Unknown id: a 2xx "error" makes the frame forget it; a 4xx would make it poll forever.
    if (!operation || operation.status === 'error') {
      sendJson(ctx, 200, `{"id":${JSON.stringify(id)},"status":"error"}`);
      return;
    }
    if (operation.status === 'pending') {
      sendJson(ctx, 200, `{"id":${JSON.stringify(id)},"status":"pending"}`);
      return;
    }
    const image = await frames.frameImageBase64(operation);
    // The whole body exists before the first byte is sent: the frame gives up on a 0.5 s gap.
    const prefix = Buffer.from(`{"id":${JSON.stringify(id)},"status":"done","response":{"image":"`, 'latin1');
    sendChunked(ctx, [prefix, image, RESULT_SUFFIX], chunkSize);
    frames.pictureSent(operation);
  });

  router.post('/prompt/add', async (ctx) => {
    const body = await readJsonBody(ctx, addPromptSchema);
    try {
      await prompts.add({
        prompt: body.prompt,
        ...(body.negative === undefined ? {} : { negative: body.negative }),
        ...(body.placeholders == null ? {} : { placeholders: body.placeholders }),
      });
    } catch (error) {
      if (error instanceof PromptValidationError) throw badRequest(error.message);
      if (error instanceof PlaceholderValidationError) throw badRequest(`Invalid request: ${error.message}`);
      // A duplicate is success: the firmware shows nothing at all for an error here, so the
      // owner would think the button is broken, and the prompt they asked for is in the list.
      // The JSON API keeps its 409 for the page, which can say so.
      if (!(error instanceof DuplicatePromptError)) throw error;
    }
    sendJson(ctx, 201, '{"status":"done"}');
  });

  return router;
}

function sendJson(ctx: { status: number; body: unknown; set(field: string, value: string): void }, status: number, json: string): void {
  ctx.status = status;
  ctx.set('Content-Type', 'application/json');
  ctx.body = json;
}

function validId(id: string | undefined): string {
  if (id === undefined || !OPERATION_ID_PATTERN.test(id)) {
    throw badRequest('Invalid operation id', 'an operation id is 1 to 64 characters from A-Z, a-z, 0-9, _ and -');
  }
  return id;
}

function parseChunkSize(raw: string | string[] | undefined): number {
  if (raw === undefined) return DEFAULT_CHUNK_SIZE;
  const text = Array.isArray(raw) ? raw[0] ?? '' : raw;
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1 || Number(text) > MAX_CHUNK_SIZE) {
    throw badRequest('Invalid chunk_size', `chunk_size must be a whole number from 1 to ${MAX_CHUNK_SIZE}`);
  }
  return Number(text);
}

const RESULT_SUFFIX = Buffer.from('"}}');

/**
 * Sends the concatenation of `parts` with `Transfer-Encoding: chunked`, one HTTP chunk per
 * `chunkSize` bytes, as upstream does. The chunk framing is laid out here in one buffer and
 * written once: left to Node, each 512-byte chunk costs a `write` call and three iovecs
 * (size line, data, CRLF), which was a quarter of the server's CPU under load. Node is told
 * the body is already framed by clearing `chunkedEncoding` after the headers are out.
 */
function sendChunked(ctx: Context, parts: readonly Buffer[], chunkSize: number): void {
  ctx.respond = false;
  const response = ctx.res;
  response.statusCode = 200;
  response.setHeader('Content-Type', 'application/json');
  if (ctx.req.httpVersion === '1.0') {
    // HTTP/1.0 has no chunked encoding: the whole body with its length.
    const body = Buffer.concat(parts);
    response.setHeader('Content-Length', body.length);
    response.end(body);
    return;
  }
  response.setHeader('Transfer-Encoding', 'chunked');
  response.flushHeaders();
  response.chunkedEncoding = false;
  response.end(frameChunks(parts, chunkSize));
}

/** The body in HTTP/1.1 chunked framing: `<hex size>\r\n<data>\r\n` per chunk, then `0\r\n\r\n`. */
export function frameChunks(parts: readonly Buffer[], chunkSize: number): Buffer {
  const chunks = [...chunksOf(parts, chunkSize)];
  const headerOf = (length: number): string => `${length.toString(16)}\r\n`;
  let total = CHUNKED_END.length;
  for (const chunk of chunks) total += headerOf(chunk.length).length + chunk.length + 2;
  const framed = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const chunk of chunks) {
    offset += framed.write(headerOf(chunk.length), offset, 'latin1');
    offset += chunk.copy(framed, offset);
    offset += framed.write('\r\n', offset, 'latin1');
  }
  CHUNKED_END.copy(framed, offset);
  return framed;
}

const CHUNKED_END = Buffer.from('0\r\n\r\n', 'latin1');

/** Splits the concatenation of `parts` into `size`-byte pieces (the last may be shorter). */
function* chunksOf(parts: readonly Buffer[], size: number): Generator<Buffer> {
  let pending: Buffer[] = [];
  let pendingLength = 0;
  for (const part of parts) {
    let offset = 0;
    if (pendingLength > 0) {
      const take = Math.min(size - pendingLength, part.length);
      pending.push(part.subarray(0, take));
      pendingLength += take;
      offset = take;
      if (pendingLength < size) continue;
      yield Buffer.concat(pending, pendingLength);
      pending = [];
      pendingLength = 0;
    }
    for (; offset + size <= part.length; offset += size) yield part.subarray(offset, offset + size);
    if (offset < part.length) {
      pending = [part.subarray(offset)];
      pendingLength = part.length - offset;
    }
  }
  if (pendingLength > 0) yield Buffer.concat(pending, pendingLength);
}
