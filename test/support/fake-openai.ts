/**
 * A local OpenAI-compatible images server with three profiles, per the facts file
 * (../shared/provider-apis.md §5 and "What a faithful mock server must do"):
 * - `openai`: Bearer key → 401 invalid_api_key; per-model sizes → 400 invalid_size; a
 *   forbidden word → 400 content_policy_violation (moderation_blocked for GPT image); a rate
 *   limit → 429 with retry-after; b64_json or URL per response_format for dall-e, always
 *   b64_json for GPT image; revised_prompt with dall-e-3; POST /v1/images/edits (multipart).
 * - `localai`: URL results by default, `positive|negative` prompts, `step`, 512x512 for a size
 *   without an `x`, its own error envelope (numeric code).
 * - `qwen`: no auth; width/height/negative_prompt/num_inference_steps/true_cfg_scale/seed
 *   (42 when missing); OpenAI fields ignored; always one b64_json PNG; 422 without a prompt;
 *   one request at a time.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { delay, parseJson, samplePicture, sendBrokenJson, sendBytes, sendJson, startFakeServer, type FakeServer, type RecordedRequest } from './fake-http-kit.js';

export type FakeOpenAiProfile = 'openai' | 'localai' | 'qwen';

export type FakeOpenAiMode =
  | 'ok'
  /** 429 insufficient_quota: the account is empty. */
  | 'insufficient-quota'
  /** 500 with the profile's error body. */
  | 'server-error'
  /** A proxy's HTML 502 page. */
  | 'html-502'
  /** A proxy's HTML 504 page: it gave up waiting; the server behind it goes on generating. */
  | 'gateway-timeout'
  /** 200 with truncated JSON. */
  | 'broken-json'
  /** The connection is dropped without an answer. */
  | 'drop'
  /** The generation starts (and is counted), then the connection drops before the answer. */
  | 'drop-after-start';

const SIZES: Readonly<Record<string, readonly string[] | 'free'>> = {
  'dall-e-2': ['256x256', '512x512', '1024x1024'],
  'dall-e-3': ['1024x1024', '1792x1024', '1024x1792'],
  'gpt-image-1': ['1024x1024', '1536x1024', '1024x1536', 'auto'],
  'gpt-image-1-mini': ['1024x1024', '1536x1024', '1024x1536', 'auto'],
  'gpt-image-1.5': ['1024x1024', '1536x1024', '1024x1536', 'auto'],
  'gpt-image-2': 'free',
};
const PROMPT_LIMITS: Readonly<Record<string, number>> = { 'dall-e-2': 1000, 'dall-e-3': 4000 };

export interface GenerationSeen {
  readonly body: Record<string, unknown>;
  /** LocalAI: the prompt split at `|`. */
  readonly positive?: string;
  readonly negative?: string;
  readonly width?: number;
  readonly height?: number;
  readonly seed?: number;
  readonly steps?: number;
}

export interface FakeOpenAiOptions {
  readonly profile?: FakeOpenAiProfile;
  /** openai: required; localai: optional; qwen: never checked. */
  readonly apiKey?: string;
  /** Serve result URLs from a second server, as OpenAI's come from blob storage on another host. */
  readonly blobHost?: boolean;
}

export class FakeOpenAi {
  readonly requests: RecordedRequest[] = [];
  readonly generations: GenerationSeen[] = [];
  readonly profile: FakeOpenAiProfile;
  mode: FakeOpenAiMode = 'ok';
  delayMs = 0;
  apiKey: string | undefined;
  forbiddenWord = 'forbidden';
  /** The next this-many generation requests get 429 with this retry-after (seconds). */
  rateLimit: { times: number; retryAfterSeconds: number } | undefined;
  /** Most requests in flight at once (the Qwen service takes one at a time per GPU). */
  maxConcurrent = 0;
  /** Requests the blob host got (result downloads), when there is one. */
  readonly blobRequests: RecordedRequest[] = [];
  private inFlight = 0;
  private readonly files = new Map<string, Buffer>();
  private blob: FakeServer | undefined;

  private constructor(
    private readonly server: FakeServer,
    private readonly pictures: { png: Buffer; webp: Buffer; jpeg: Buffer },
    options: FakeOpenAiOptions,
  ) {
    this.profile = options.profile ?? 'openai';
    this.apiKey = options.apiKey;
  }

  static async start(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
    const pictures = { png: await samplePicture('png', '#557722'), webp: await samplePicture('webp', '#557722'), jpeg: await samplePicture('jpeg', '#557722') };
    let fake: FakeOpenAi | undefined;
    const server = await startFakeServer((request, response) => (fake as FakeOpenAi).handle(request, response));
    fake = new FakeOpenAi(server, pictures, options);
    if (options.blobHost) {
      const owner = fake;
      owner.blob = await startFakeServer((request, response) => {
        owner.blobRequests.push(request);
        const bytes = owner.files.get(request.path.split('/').pop() ?? '');
        return bytes ? sendBytes(response, 200, bytes, 'image/png') : sendBytes(response, 404, '<Error><Code>BlobNotFound</Code></Error>', 'application/xml');
      });
    }
    return fake;
  }

  get url(): string {
    return this.server.url;
  }

  get picture(): Buffer {
    return this.pictures.png;
  }

  async close(): Promise<void> {
    await this.blob?.close();
    await this.server.close();
  }

  private async handle(request: RecordedRequest, response: ServerResponse): Promise<void> {
    this.requests.push(request);
    this.inFlight += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.inFlight);
    try {
      if (this.delayMs > 0) await delay(this.delayMs);
      await this.route(request, response);
    } finally {
      this.inFlight -= 1;
    }
  }

  private async route(request: RecordedRequest, response: ServerResponse): Promise<void> {
    if (this.mode === 'drop') {
      response.socket?.destroy();
      return;
    }
    // Result files: OpenAI's are signed blob URLs (no key), LocalAI's a static route.
    const file = /^\/(generated|generated-images)\/([\w.-]+)$/.exec(request.path);
    if (request.method === 'GET' && file) {
      const bytes = this.files.get(file[2] as string);
      return bytes ? sendBytes(response, 200, bytes, 'image/png') : sendBytes(response, 404, 'Not Found', 'text/plain');
    }
    if (this.profile === 'qwen') return this.qwen(request, response);
    if (!this.authorised(request)) {
      return this.profile === 'openai'
        ? sendJson(response, 401, { error: { message: 'Incorrect API key provided: sk-****. You can find your API key at https://platform.openai.com/account/api-keys.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })
        : sendJson(response, 401, { error: { code: 401, message: 'An authentication key is required', type: 'invalid_request_error' } });
    }
    if (request.method === 'GET' && request.path === '/v1/models') {
      const ids = this.profile === 'openai' ? Object.keys(SIZES) : ['stablediffusion'];
      return sendJson(response, 200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'system' })) });
    }
    if (request.method === 'POST' && (request.path === '/v1/images/generations' || request.path === '/v1/images/edits')) {
      if (this.mode === 'drop-after-start') {
        this.generations.push({ body: (parseJson(request.body) ?? {}) as Record<string, unknown> });
        response.socket?.destroy();
        return;
      }
      const failure = this.failure(response);
      if (failure) return;
      return request.path === '/v1/images/edits' ? this.edit(request, response) : this.profile === 'openai' ? this.openAi(request, response) : this.localAi(request, response);
    }
    return this.profile === 'openai'
      ? sendJson(response, 404, { error: { message: `Invalid URL (${request.method} ${request.path})`, type: 'invalid_request_error', param: null, code: null } })
      : sendJson(response, 404, { error: { code: 404, message: 'Cannot find route', type: '' } });
  }

  private authorised(request: RecordedRequest): boolean {
    if (this.profile === 'openai' || this.apiKey !== undefined) return request.headers.authorization === `Bearer ${this.apiKey ?? ''}` && this.apiKey !== undefined;
    return true;
  }

  /** Scripted failures shared by the profiles; true when one was sent. */
  private failure(response: ServerResponse): boolean {
    if (this.rateLimit && this.rateLimit.times > 0) {
      this.rateLimit.times -= 1;
      sendJson(
        response,
        429,
        { error: { message: 'Rate limit reached for images per minute. Please try again later.', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
        { 'retry-after': String(this.rateLimit.retryAfterSeconds), 'x-ratelimit-remaining-requests': '0' },
      );
      return true;
    }
    switch (this.mode) {
      case 'insufficient-quota':
        sendJson(response, 429, { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } });
        return true;
      case 'server-error':
        if (this.profile === 'openai') sendJson(response, 500, { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } });
        else sendJson(response, 500, { error: { code: 500, message: 'rpc error: code = Unknown desc = backend failed to generate the image', type: '' } });
        return true;
      case 'html-502':
        sendBytes(response, 502, '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>', 'text/html');
        return true;
      case 'gateway-timeout':
        sendBytes(response, 504, '<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>', 'text/html');
        return true;
      case 'broken-json':
        sendBrokenJson(response);
        return true;
      default:
        return false;
    }
  }

  private openAi(request: RecordedRequest, response: ServerResponse): void {
    const body = parseJson(request.body) as Record<string, unknown> | undefined;
    if (typeof body?.['prompt'] !== 'string' || body['prompt'] === '') {
      return sendJson(response, 400, { error: { message: "Missing required parameter: 'prompt'.", type: 'invalid_request_error', param: 'prompt', code: 'missing_required_parameter' } });
    }
    const prompt = body['prompt'];
    const model = typeof body['model'] === 'string' ? body['model'] : 'dall-e-2';
    const sizes = SIZES[model];
    if (sizes === undefined) {
      return sendJson(response, 404, { error: { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' } });
    }
    const gptImage = model.startsWith('gpt-image');
    // Strict on purpose: the docs say GPT image models do not take response_format.
    if (gptImage && body['response_format'] !== undefined) {
      return sendJson(response, 400, { error: { message: "Unknown parameter: 'response_format'.", type: 'invalid_request_error', param: 'response_format', code: 'unknown_parameter' } });
    }
    const limit = PROMPT_LIMITS[model] ?? 32_000;
    if (prompt.length > limit) {
      return sendJson(response, 400, { error: { message: `Invalid 'prompt': string too long. Expected a string with maximum length ${limit}, but got a string with length ${prompt.length} instead.`, type: 'invalid_request_error', param: 'prompt', code: 'string_above_max_length' } });
    }
    const size = typeof body['size'] === 'string' ? body['size'] : '1024x1024';
    if (!sizeAllowed(sizes, size)) {
      return sendJson(response, 400, { error: { code: 'invalid_size', message: 'The size is not supported by this model.', param: null, type: 'invalid_request_error' } });
    }
    if (prompt.toLowerCase().includes(this.forbiddenWord)) {
      return gptImage
        ? sendJson(response, 400, { error: { message: 'Your request was rejected by the safety system.', type: 'image_generation_user_error', param: null, code: 'moderation_blocked' } })
        : sendJson(response, 400, { error: { code: 'content_policy_violation', message: 'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.', param: null, type: 'invalid_request_error' } });
    }
    this.generations.push({ body });
    const created = Math.floor(Date.now() / 1000);
    if (gptImage) {
      const format = body['output_format'] === 'webp' ? 'webp' : body['output_format'] === 'jpeg' ? 'jpeg' : 'png';
      return sendJson(response, 200, {
        created,
        data: [{ b64_json: this.pictures[format].toString('base64') }],
        background: 'opaque',
        output_format: format,
        quality: typeof body['quality'] === 'string' ? body['quality'] : 'medium',
        size,
        usage: { input_tokens: 12, input_tokens_details: { image_tokens: 0, text_tokens: 12 }, output_tokens: 1056, total_tokens: 1068 },
      });
    }
    const item = body['response_format'] === 'b64_json' ? { b64_json: this.pictures.png.toString('base64') } : { url: this.storeFile('generated') };
    return sendJson(response, 200, { created, data: [{ ...item, ...(model === 'dall-e-3' ? { revised_prompt: `A detailed painting: ${prompt}` } : {}) }] });
  }

  private localAi(request: RecordedRequest, response: ServerResponse): void {
    const body = parseJson(request.body) as Record<string, unknown> | undefined;
    if (body === undefined) return sendJson(response, 400, { error: { code: 400, message: 'failed parsing request body', type: '' } });
    const text = typeof body['prompt'] === 'string' ? body['prompt'] : '';
    const [positive = '', negative = ''] = text.split('|');
    const size = typeof body['size'] === 'string' && body['size'].includes('x') ? body['size'] : '512x512';
    const [width, height] = size.split('x').map(Number);
    this.generations.push({
      body,
      positive,
      negative,
      ...(width === undefined ? {} : { width }),
      ...(height === undefined ? {} : { height }),
      ...(typeof body['seed'] === 'number' ? { seed: body['seed'] } : {}),
      steps: typeof body['step'] === 'number' && body['step'] !== 0 ? body['step'] : 15,
    });
    const item = body['response_format'] === 'b64_json' ? { b64_json: this.pictures.png.toString('base64') } : { url: this.storeFile('generated-images') };
    return sendJson(response, 200, { id: randomUUID(), created: Math.floor(Date.now() / 1000), data: [item] });
  }

  private qwen(request: RecordedRequest, response: ServerResponse): void {
    if (request.method === 'GET' && request.path === '/openapi.json') {
      return sendJson(response, 200, { openapi: '3.1.0', info: { title: 'FastAPI', version: '0.1.0' }, paths: { '/v1/images/generations': {}, '/v1/images/edits': {} } });
    }
    if (!(request.method === 'POST' && (request.path === '/v1/images/generations' || request.path === '/v1/images/edits'))) {
      return sendJson(response, 404, { detail: 'Not Found' });
    }
    if (this.failure(response)) return;
    if (request.path === '/v1/images/edits') return this.edit(request, response);
    const body = parseJson(request.body);
    const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    if (typeof fields['prompt'] !== 'string') {
      return sendJson(response, 422, { detail: [{ type: 'missing', loc: ['body', 'prompt'], msg: 'Field required', input: body ?? null }] });
    }
    for (const key of ['width', 'height', 'num_inference_steps', 'seed']) {
      if (fields[key] !== undefined && fields[key] !== null && !Number.isInteger(fields[key])) {
        return sendJson(response, 422, { detail: [{ type: 'int_parsing', loc: ['body', key], msg: 'Input should be a valid integer', input: fields[key] }] });
      }
    }
    // pydantic ignores model/n/size/response_format; the code's defaults fill the rest.
    this.generations.push({
      body: fields,
      width: (fields['width'] as number | undefined) ?? 1664,
      height: (fields['height'] as number | undefined) ?? 928,
      seed: (fields['seed'] as number | undefined) ?? 42,
      steps: (fields['num_inference_steps'] as number | undefined) ?? 50,
      ...(typeof fields['negative_prompt'] === 'string' ? { negative: fields['negative_prompt'] } : {}),
    });
    return sendJson(response, 200, { created: Math.floor(Date.now() / 1000), data: [{ b64_json: this.pictures.png.toString('base64') }] });
  }

  /** POST /v1/images/edits: multipart with an image part and a prompt; the same answer shape. */
  private edit(request: RecordedRequest, response: ServerResponse): void {
    const type = request.headers['content-type'] ?? '';
    const text = request.body.toString('latin1');
    const hasImage = /name="image(\[\])?"/.test(text);
    const hasPrompt = /name="prompt"/.test(text);
    if (!type.startsWith('multipart/form-data') || !hasImage || !hasPrompt) {
      if (this.profile === 'qwen') return sendJson(response, 422, { detail: [{ type: 'missing', loc: ['body', hasImage ? 'prompt' : 'image'], msg: 'Field required', input: null }] });
      return sendJson(response, 400, { error: { message: `Missing required parameter: '${hasImage ? 'prompt' : 'image'}'.`, type: 'invalid_request_error', param: hasImage ? 'prompt' : 'image', code: 'missing_required_parameter' } });
    }
    return sendJson(response, 200, { created: Math.floor(Date.now() / 1000), data: [{ b64_json: this.pictures.png.toString('base64') }] });
  }

  private storeFile(folder: string): string {
    const name = `${randomUUID()}.png`;
    this.files.set(name, this.pictures.png);
    return this.blob ? `${this.blob.url}/private/org-fake/${name}?se=2026-03-01&sig=fake` : `${this.url}/${folder}/${name}`;
  }
}

function sizeAllowed(sizes: readonly string[] | 'free', size: string): boolean {
  if (sizes !== 'free') return sizes.includes(size);
  const match = /^(\d+)x(\d+)$/.exec(size);
  if (!match) return size === 'auto';
  const width = Number(match[1]);
  const height = Number(match[2]);
  const ratio = width / height;
  return width % 16 === 0 && height % 16 === 0 && ratio >= 1 / 3 && ratio <= 3 && Math.max(width, height) <= 3840 && Math.min(width, height) <= 2160;
}
