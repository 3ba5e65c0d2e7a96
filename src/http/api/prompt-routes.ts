import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { DuplicatePromptError, PromptNotFoundError, PromptValidationError } from '../../prompts/prompt-errors.js';
import { PromptVersionMismatchError, type PromptExpectation, type PromptStore } from '../../prompts/prompt-store.js';
import { PlaceholderValidationError } from '../../prompts/prompt-validation.js';
import { badRequest, HttpError } from '../http-error.js';
import { placeholderListsBody } from '../placeholder-lists-body.js';
import { readJsonBody } from '../read-json-body.js';
import { requireAdminToken, type TokenCheck } from '../access/token-check.js';
import { presentPrompt, type PromptJson } from './presenters.js';
import { notFound, promptIdParam } from './route-params.js';

// Shapes only: lengths, emptiness, duplicates and list contents are PromptStore's rules,
// the same for the API, the frame's /prompt/add and prompts.json.
const text = z.string({ error: 'expected a string' });
const placeholders = placeholderListsBody;

const newPromptSchema = z.object({
  prompt: text,
  negative: text.nullable().optional(),
  placeholders: placeholders.nullable().optional(),
});

const changePromptSchema = z
  .object({
    prompt: text.optional(),
    negative: text.nullable().optional(),
    placeholders: placeholders.nullable().optional(),
  })
  .refine((body) => body.prompt !== undefined || body.negative !== undefined || body.placeholders !== undefined, {
    error: 'expected at least one of prompt, negative, placeholders',
  });

export interface PromptRoutesOptions {
  readonly prompts: PromptStore;
  /** `prompts_amount`: adding to a full list drops the oldest. */
  readonly maxPrompts: number;
  readonly tokenCheck: TokenCheck;
}

/** `/api/prompts`: the same list, bound and rules as prompts.json. */
export function registerPromptRoutes(router: Router, { prompts, maxPrompts, tokenCheck }: PromptRoutesOptions): void {
  const admin = requireAdminToken(tokenCheck);

  router.get('/prompts', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { prompts: prompts.list().map(presentPrompt), max: maxPrompts };
  });

  router.post('/prompts', admin, async (ctx) => {
    const body = await readJsonBody(ctx, newPromptSchema);
    const added = await storeCall(() =>
      prompts.add({
        prompt: body.prompt,
        ...(body.negative == null ? {} : { negative: body.negative }),
        ...(body.placeholders == null ? {} : { placeholders: body.placeholders }),
      }),
    );
    ctx.status = 201;
    answerPrompt(ctx, presentPrompt(added));
  });

  router.put('/prompts/:id', admin, async (ctx) => {
    const id = promptIdParam(ctx.params.id);
    const ifMatch = parseIfMatch(ctx.get('If-Match'));
    const body = await readJsonBody(ctx, changePromptSchema);
    const updated = await storeCall(
      () =>
        prompts.update(
          id,
          {
            ...(body.prompt === undefined ? {} : { prompt: body.prompt }),
            // null clears, as an empty string does in prompts.json.
            ...(body.negative === undefined ? {} : { negative: body.negative ?? '' }),
            ...(body.placeholders === undefined ? {} : { placeholders: body.placeholders }),
          },
          expectationOf(ifMatch),
        ),
      ifMatch,
    );
    answerPrompt(ctx, presentPrompt(updated));
  });

  router.delete('/prompts/:id', admin, async (ctx) => {
    const id = promptIdParam(ctx.params.id);
    const ifMatch = parseIfMatch(ctx.get('If-Match'));
    await storeCall(() => prompts.remove(id, expectationOf(ifMatch)), ifMatch);
    ctx.status = 204;
  });
}

/** A single-prompt answer: the version doubles as the ETag, which If-Match sends back. */
function answerPrompt(ctx: Context, prompt: PromptJson): void {
  ctx.set('ETag', `"${prompt.version}"`);
  ctx.body = { prompt };
}

/**
 * `If-Match` (RFC 9110 13.1.1): absent (undefined), `*` (any current prompt), or entity tags.
 * Comparison is strong, so weak tags (`W/"..."`) never match. An unquoted value is taken as
 * the tag itself: a forgiving reading for hand-written curl commands.
 */
type IfMatch = undefined | '*' | readonly string[];

function parseIfMatch(header: string): IfMatch {
  const value = header.trim();
  if (value === '') return undefined;
  if (value === '*') return '*';
  const tags: string[] = [];
  for (const part of value.split(',')) {
    const tag = part.trim();
    if (tag === '' || tag.startsWith('W/')) continue;
    tags.push(tag.length >= 2 && tag.startsWith('"') && tag.endsWith('"') ? tag.slice(1, -1) : tag);
  }
  return tags;
}

/** `*` needs no version check: only that a prompt is there, which the store checks anyway. */
function expectationOf(ifMatch: IfMatch): PromptExpectation | undefined {
  return ifMatch === undefined || ifMatch === '*' ? undefined : { versions: ifMatch };
}

const preconditionFailed = (): HttpError =>
  new HttpError(412, 'PreconditionFailed', 'This prompt was changed or removed by someone else; reload the list');

/**
 * PromptStore's refusals as HTTP answers; their messages are written for people. With
 * If-Match, a missing prompt is 412 too: the one the client saw was removed.
 */
async function storeCall<T>(call: () => Promise<T>, ifMatch?: IfMatch): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof PromptVersionMismatchError) throw preconditionFailed();
    if (error instanceof PromptNotFoundError && ifMatch !== undefined) throw preconditionFailed();
    if (error instanceof DuplicatePromptError) throw new HttpError(409, 'Conflict', error.message);
    if (error instanceof PromptNotFoundError) throw notFound(error.message);
    if (error instanceof PromptValidationError) throw badRequest(`Invalid request: ${error.field}: ${error.message}`);
    if (error instanceof PlaceholderValidationError) throw badRequest(`Invalid request: ${error.message}`);
    throw error;
  }
}
