/**
 * A local stand-in for the YandexART REST API (`../shared/provider-apis.md` section 1 and
 * "YandexART mock"): a real HTTP server on 127.0.0.1 speaking the documented shapes, the
 * gateway's error envelope included. It accepts both field spellings (camelCase and
 * snake_case) and numbers or strings for the int64 fields, as the real gateway does, and
 * records every request so tests can count what a picture cost. Scripted modes stand in for
 * the failures the real service shows: refused keys, quotas, moderation, failed operations,
 * polls that never answer, corrupt images.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { closeServer, listenOnLoopback, readBody } from './fake-http-kit.js';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body text (POSTs). */
  readonly body: string;
  /** Status answered; undefined for a request left hanging. */
  status?: number;
}

/** What one POST asked for, read from whichever spelling the client used. */
export interface GenerationAsked {
  readonly spelling: 'camelCase' | 'snake_case';
  readonly folderId: string;
  readonly texts: readonly string[];
  readonly mimeType: string;
  readonly seed: number | undefined;
  readonly widthRatio: number;
  readonly heightRatio: number;
}

export interface FakeOperation {
  readonly id: string;
  readonly asked: GenerationAsked;
  polls: number;
}

/**
 * One scripted answer: a status with a body (an error envelope, say), no answer at all
 * (`hang`), or a connection closed without an answer (`drop`, as a proxy or a reset does).
 */
export type ScriptedAnswer = { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> } | 'hang' | 'drop';

export type Outcome = 'image' | 'error' | 'corrupt';

export interface FakeYandexArtOptions {
  readonly folderId?: string;
  /** API keys and IAM tokens the fake accepts (as `Api-Key <k>` or `Bearer <k>`). */
  readonly credentials?: readonly string[];
  /** Polls that answer `done:false` before an operation is done. */
  readonly pendingPolls?: number;
}

export const MODERATION_MESSAGE = 'it is not possible to generate an image from this request because it may violate the terms of use';

/** The gateway's error envelope (confirmed on the same host for text generation). */
export function errorEnvelope(httpCode: number, grpcCode: number, httpStatus: string, message: string): unknown {
  return { error: { grpcCode, httpCode, message, httpStatus, details: [] } };
}

export const QUOTA_EXCEEDED: ScriptedAnswer = {
  status: 429,
  body: errorEnvelope(429, 8, 'Too Many Requests', 'ai.imageGenerationRequestsPerMinute.rate quota limit exceed: allowed 10 requests'),
};
export const INTERNAL_ERROR: ScriptedAnswer = { status: 500, body: errorEnvelope(500, 13, 'Internal Server Error', 'Internal error') };
export const UNAVAILABLE: ScriptedAnswer = { status: 503, body: errorEnvelope(503, 14, 'Service Unavailable', 'upstream unavailable') };
export const PERMISSION_DENIED: ScriptedAnswer = {
  status: 403,
  body: errorEnvelope(403, 7, 'Forbidden', 'Permission to [resource-manager.folder b1g] denied'),
};

const OPERATION_TYPE = 'type.googleapis.com/yandex.cloud.ai.foundation_models.v1.image_generation.ImageGenerationResponse';

export class FakeYandexArt {
  readonly requests: RecordedRequest[] = [];
  readonly operations = new Map<string, FakeOperation>();
  readonly folderId: string;
  readonly credentials: Set<string>;
  /** Polls answering `done:false` before done; applies to every operation. */
  pendingPolls: number;
  /** While true, every operation stays pending however often it is polled. */
  hold = false;
  /** How a finished operation ends. */
  outcome: Outcome = 'image';
  /** A word that makes the POST a moderation refusal (HTTP 400). */
  forbiddenWord = 'forbidden';
  /**
   * A POST is answered this long after it arrived; the operation is made (and paid for) even
   * if the client has gone meanwhile, as on the real service once the request is in.
   */
  postDelayMs = 0;
  /** Answers used, in order, before normal handling (after the credentials check). */
  readonly postScript: ScriptedAnswer[] = [];
  readonly pollScript: ScriptedAnswer[] = [];
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly jpeg: Buffer,
    options: FakeYandexArtOptions,
  ) {
    this.folderId = options.folderId ?? 'b1gfakefolder000000';
    this.credentials = new Set(options.credentials ?? []);
    this.pendingPolls = options.pendingPolls ?? 0;
  }

  static async start(options: FakeYandexArtOptions = {}): Promise<FakeYandexArt> {
    // A real (small) JPEG, as the service returns; 2:3 like the frame.
    const jpeg = await sharp({ create: { width: 96, height: 144, channels: 3, background: '#d2691e' } }).jpeg().toBuffer();
    let fake: FakeYandexArt | undefined;
    const server = createServer((request, response) => {
      void fake?.handle(request, response);
    });
    fake = new FakeYandexArt(server, await listenOnLoopback(server), jpeg, options);
    return fake;
  }

  /** Every POST imageGenerationAsync received, answered or not. */
  get posts(): RecordedRequest[] {
    return this.requests.filter((request) => request.method === 'POST');
  }

  get polls(): RecordedRequest[] {
    return this.requests.filter((request) => request.method === 'GET');
  }

  /** Lets held operations finish at their next poll. */
  release(): void {
    this.hold = false;
  }

  async close(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    await closeServer(this.server);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = (await readBody(request)).toString('utf8');
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const record: RecordedRequest = { method: request.method ?? 'GET', path, authorization: request.headers.authorization, headers: { ...request.headers }, body };
    this.requests.push(record);
    const answer = (status: number, json: unknown, headers: Readonly<Record<string, string>> = {}): void => {
      record.status = status;
      response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      response.end(JSON.stringify(json));
    };
    const generate = /^\/foundationModels\/v1\/imageGenerationAsync\/?$/.test(path) && request.method === 'POST';
    const poll = /^\/operations\/[^/]+$/.test(path) && request.method === 'GET';
    if (!generate && !poll) {
      answer(404, errorEnvelope(404, 5, 'Not Found', `no route ${request.method} ${path}`));
      return;
    }
    const presented = /^(?:Api-Key|Bearer) (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (presented === undefined || !this.credentials.has(presented)) {
      // The real gateway names the key it did not know: clients must not pass that on.
      answer(401, errorEnvelope(401, 16, 'Unauthorized', `Unknown api key '${presented ?? ''}'`));
      return;
    }
    const scripted = (generate ? this.postScript : this.pollScript).shift();
    if (scripted === 'drop') {
      request.socket.destroy();
      return;
    }
    if (scripted === 'hang') {
      this.hanging.add(response);
      response.on('close', () => this.hanging.delete(response));
      return;
    }
    if (scripted !== undefined) {
      answer(scripted.status, scripted.body ?? {}, scripted.headers);
      return;
    }
    if (generate && this.postDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.postDelayMs));
    if (generate) this.generate(body, answer);
    else this.poll(decodeURIComponent(path.slice('/operations/'.length)), answer);
  }

  private generate(body: string, answer: (status: number, json: unknown) => void): void {
    const invalid = (message: string): void => answer(400, errorEnvelope(400, 3, 'Bad Request', message));
    let asked: GenerationAsked;
    try {
      asked = readGenerationRequest(JSON.parse(body) as unknown);
    } catch (error) {
      invalid((error as Error).message);
      return;
    }
    if (asked.folderId !== this.folderId) {
      invalid('Specified folder ID does not match with service account');
      return;
    }
    if (asked.texts.some((text) => Array.from(text).length > 500)) {
      invalid('text length must be at most 500 characters');
      return;
    }
    if (asked.mimeType !== 'image/jpeg') {
      invalid(`unsupported mime type ${asked.mimeType}`);
      return;
    }
    if (asked.texts.some((text) => text.toLowerCase().includes(this.forbiddenWord.toLowerCase()))) {
      invalid(MODERATION_MESSAGE);
      return;
    }
    const id = `fbv${randomBytes(32).toString('base64').replace(/[^a-z0-9]/g, '').slice(0, 17).padEnd(17, '0')}`;
    this.operations.set(id, { id, asked, polls: 0 });
    answer(200, { id, description: '', createdAt: null, createdBy: '', modifiedAt: null, done: false, metadata: null });
  }

  private poll(id: string, answer: (status: number, json: unknown) => void): void {
    const operation = this.operations.get(id);
    if (!operation) {
      answer(404, errorEnvelope(404, 5, 'Not Found', `Operation ${id} not found`));
      return;
    }
    operation.polls += 1;
    const base = { id, description: '', createdAt: null, createdBy: '', modifiedAt: null, metadata: null };
    if (this.hold || operation.polls <= this.pendingPolls) {
      answer(200, { ...base, done: false });
      return;
    }
    if (this.outcome === 'error') {
      answer(200, { ...base, done: true, error: { code: 13, message: 'internal error', details: [] } });
      return;
    }
    const image = this.outcome === 'corrupt' ? '%%% not base64: the payload was cut %%%' : this.jpeg.toString('base64');
    answer(200, { ...base, done: true, response: { '@type': OPERATION_TYPE, image, modelVersion: '' } });
  }
}

/** Reads a POST body in either spelling; anything malformed throws with the gateway's kind of message. */
export function readGenerationRequest(json: unknown): GenerationAsked {
  const root = asObject(json, 'request body');
  const spelling = 'modelUri' in root ? 'camelCase' : 'model_uri' in root ? 'snake_case' : undefined;
  if (spelling === undefined) throw new Error('model_uri: field is required');
  const modelUri = pick(root, 'modelUri', 'model_uri');
  const match = typeof modelUri === 'string' ? /^art:\/\/([^/]+)\/yandex-art\/latest$/.exec(modelUri) : null;
  if (!match?.[1]) throw new Error('Failed to parse model URI');
  const messages = pick(root, 'messages', 'messages');
  if (!Array.isArray(messages) || messages.length === 0) throw new Error('messages: at least one message is required');
  const texts = messages.map((message) => {
    const object = asObject(message, 'message');
    if (typeof object.text !== 'string' || object.text === '') throw new Error('messages.text: must not be empty');
    if (object.weight !== undefined && !Number.isFinite(Number(object.weight))) throw new Error(`messages.weight: invalid value ${JSON.stringify(object.weight)}`);
    return object.text;
  });
  const options = asObject(pick(root, 'generationOptions', 'generation_options') ?? {}, 'generation options');
  const mimeType = pick(options, 'mimeType', 'mime_type');
  const seed = pick(options, 'seed', 'seed');
  const ratio = asObject(pick(options, 'aspectRatio', 'aspect_ratio') ?? {}, 'aspect ratio');
  const widthRatio = pick(ratio, 'widthRatio', 'width_ratio');
  const heightRatio = pick(ratio, 'heightRatio', 'height_ratio');
  return {
    spelling,
    folderId: match[1],
    texts,
    mimeType: typeof mimeType === 'string' ? mimeType : '',
    seed: seed === undefined ? undefined : int64(seed, 'seed'),
    widthRatio: widthRatio === undefined ? 1 : int64(widthRatio, 'aspect_ratio.width_ratio'),
    heightRatio: heightRatio === undefined ? 1 : int64(heightRatio, 'aspect_ratio.height_ratio'),
  };
}

function pick(object: Record<string, unknown>, camel: string, snake: string): unknown {
  return object[camel] ?? object[snake];
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what}: expected an object`);
  return value as Record<string, unknown>;
}

/** proto3 JSON: an int64 may come as a number or as a decimal string. */
function int64(value: unknown, what: string): number {
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0) throw new Error(`${what}: invalid value ${JSON.stringify(value)}`);
  return number;
}
