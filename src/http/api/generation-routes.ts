import type Router from '@koa/router';
import { z } from 'zod';
import type { ImageLibrary } from '../../library/image-library.js';
import type { FrameService } from '../../operations/frame-service.js';
import { OPERATION_ID_PATTERN, type OperationStore } from '../../operations/operation-store.js';
import type { Operation } from '../../operations/operation.js';
import type { ProviderGate } from '../../operations/provider-gate.js';
import { MAX_PROMPT_LENGTH } from '../../prompts/prompt-validation.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import { requireAdminToken, type TokenCheck } from '../access/token-check.js';
import { badRequest, HttpError } from '../http-error.js';
import { readJsonBody } from '../read-json-body.js';
import type { EventStream, EventStreams } from './event-stream.js';
import { generationStatus, presentGeneration, presentProgress } from './presenters.js';
import { notFound } from './route-params.js';

const startSchema = z.object({
  provider: z.string({ error: 'expected a provider id' }).min(1, { error: 'expected a provider id' }).max(64, { error: 'is too long' }).optional(),
  prompt: z
    .string({ error: 'expected a string' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(MAX_PROMPT_LENGTH, { error: `must be at most ${MAX_PROMPT_LENGTH} characters` })
    .optional(),
  negative: z
    .string({ error: 'expected a string' })
    .trim()
    .max(MAX_PROMPT_LENGTH, { error: `must be at most ${MAX_PROMPT_LENGTH} characters` })
    .transform((text) => (text === '' ? undefined : text))
    .optional(),
});

/** The frame's keyword for "a new picture from any ready provider, now". */
const ANY_PROVIDER = 'ydart';

export interface GenerationRoutesOptions {
  readonly frames: FrameService;
  readonly operations: OperationStore;
  readonly library: ImageLibrary;
  readonly providers: ProviderRegistry;
  readonly gate: ProviderGate;
  readonly tokenCheck: TokenCheck;
  /** Open Server-Sent Events streams, ended at shutdown. */
  readonly streams: EventStreams;
}

/**
 * `/api/generations`: start a new picture now and follow it. A start is refused (409, with
 * the reason) when it cannot make a new picture, instead of quietly serving a stored one as
 * the frame's `ydart` would; the frame's own rules (sleep hours, limits) are the same.
 */
export function registerGenerationRoutes(router: Router, options: GenerationRoutesOptions): void {
  const { frames, operations, library, providers, gate, streams } = options;

  router.post('/generations', requireAdminToken(options.tokenCheck), async (ctx) => {
    const body = await readJsonBody(ctx, startSchema);
    const type = body.provider === undefined ? chooseAny(body.prompt !== undefined) : checkNamed(body.provider, body.prompt !== undefined);
    const operation = frames.start({
      type,
      ...(body.prompt === undefined ? {} : { prompt: body.prompt }),
      ...(body.negative === undefined ? {} : { negative: body.negative }),
    });
    ctx.status = 202;
    ctx.set('Location', `/api/generations/${operation.id}`);
    ctx.body = { generation: presentGeneration(operation, library) };
  });

  router.get('/generations/:id', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { generation: presentGeneration(find(ctx.params.id), library) };
  });

  router.get('/generations/:id/events', (ctx) => {
    const operation = find(ctx.params.id);
    follow(operation, streams.open(ctx));
  });

  const find = (raw: string | undefined): Operation => {
    if (raw === undefined || !OPERATION_ID_PATTERN.test(raw)) {
      throw badRequest('Invalid generation id', 'an id is 1 to 64 characters from A-Z, a-z, 0-9, _ and -');
    }
    const operation = operations.get(raw);
    if (operation === undefined) throw notFound('Unknown or expired generation');
    return operation;
  };

  const checkNamed = (id: string, hasPrompt: boolean): string => {
    const provider = providers.pool.find((candidate) => candidate.id === id);
    if (provider === undefined) {
      throw badRequest(`Invalid request: provider: unknown provider "${id}"`, `expected one of ${providers.pool.map((p) => p.id).join(', ')}`);
    }
    if (hasPrompt && !provider.capabilities.acceptsPrompt) throw badRequest(`Invalid request: prompt: provider ${id} does not take a prompt`);
    const status = gate.status(provider);
    if (!status.ready) throw new HttpError(409, 'Conflict', status.reason ?? 'not ready', `provider ${id} is not ready`);
    return id;
  };

  const chooseAny = (hasPrompt: boolean): string => {
    const candidates = providers.pool.filter((provider) => !hasPrompt || provider.capabilities.acceptsPrompt);
    if (candidates.length === 0) throw new HttpError(409, 'Conflict', 'no provider of this server takes a prompt');
    const statuses = candidates.map((provider) => gate.status(provider));
    if (!statuses.some((status) => status.ready)) {
      const reasons = statuses.map((status) => `${status.id}: ${status.reason ?? 'not ready'}`).join('; ');
      throw new HttpError(409, 'Conflict', `no provider is ready (${reasons})`, 'every provider is not ready');
    }
    return ANY_PROVIDER;
  };

  /**
   * The event stream of one generation: its state now (a plain message), its last progress,
   * every progress after that, then `done` or `failed` and the end of the stream.
   */
  const follow = (operation: Operation, stream: EventStream): void => {
    const finish = (): void => {
      stream.send(generationStatus(operation) === 'error' ? 'failed' : 'done', presentGeneration(operation, library));
      stream.end();
    };
    stream.send(undefined, presentGeneration(operation, library));
    if (operation.progress !== undefined) stream.send('progress', presentProgress(operation.progress));
    if (operation.status !== 'pending') {
      finish();
      return;
    }
    const unsubscribe = operations.subscribe(operation.id, (changed, change) => {
      if (change.progress !== undefined) stream.send('progress', presentProgress(change.progress));
      if (changed.status !== 'pending') {
        unsubscribe();
        finish();
      }
    });
    stream.onClose(unsubscribe);
  };
}
