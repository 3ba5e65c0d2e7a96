/**
 * A local stand-in for the Imagine server (architector1324/imagine `imagine serve`), speaking
 * its documented shapes (../shared/provider-apis.md §4 and "Imagine mock"): errors as
 * Python's default HTML error page, `seed` as a string, `num_steps` accepted as the old name
 * of `steps`, NDJSON streaming when a `stream` key is present, no queue.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, delay, listenOnLoopback, pngOf, readBody, sendBytes, sendJson } from './fake-http-kit.js';

const SAMPLERS = ['ddim', 'euler', 'euler a', 'heun', 'lms', 'dpm++ 2m', 'dpm++ 2s', 'dpm++ sde', 'dpm2', 'dpm2 a'];

export interface FakeImagineOptions {
  readonly models?: readonly string[];
  /** Milliseconds each generation takes (slow mode). */
  readonly generateMs?: number;
  /**
   * A server from before the rename of 2025-06-29 (Flask): no GET /models (Flask's 404
   * page), the step count read from `num_steps` only, the seed handed to torch's
   * manual_seed as it came (text is a TypeError: Flask's 500 page), answers without
   * `status` and with the seed as a number, errors as `{"error": ...}` JSON.
   */
  readonly legacy?: boolean;
}

export type ImagineFailure =
  | 'cuda-500' // 500 HTML page with the exception in the explanation
  | 'truncated' // 200, half the JSON, connection dropped
  | 'truncated-stream'; // stream mode: intermediate lines, then the connection drops (no final line)

export class FakeImagine {
  readonly bodies: Record<string, unknown>[] = [];
  /** Seeds of the pictures made, as the server reports them (text: up to 2^64 − 1). */
  readonly seedsUsed: string[] = [];
  /** The step count each picture was made with, as the server read it. */
  readonly stepsUsed: number[] = [];
  maxOpen = 0;
  private open = 0;
  private readonly failures: ImagineFailure[] = [];
  private readonly server = createServer((request, response) => void this.handle(request, response));
  url = '';

  constructor(private readonly options: FakeImagineOptions = {}) {}

  async listen(): Promise<this> {
    this.url = await listenOnLoopback(this.server);
    return this;
  }

  failNext(failure: ImagineFailure, count = 1): void {
    for (let index = 0; index < count; index += 1) this.failures.push(failure);
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    if (this.options.legacy) return this.legacyRoute(request, raw, response);
    if (request.method === 'GET' && request.url === '/models') {
      sendJson(response, 200, { models: [...(this.options.models ?? ['dreamshaper_8', 'v1-5-pruned-emaonly'])].sort() }, { 'Access-Control-Allow-Origin': '*' });
      return;
    }
    if (request.method !== 'POST' || request.url !== '/generate') {
      sendPythonError(response, 404, 'Not Found', 'Nothing matches the given URI');
      return;
    }
    if (raw.length === 0) {
      sendPythonError(response, 400, 'Request body is empty', 'Bad request syntax or unsupported method');
      return;
    }
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      sendPythonError(response, 400, 'Invalid JSON in request body', JSON.stringify({ error: 'Invalid JSON' }));
      return;
    }
    this.bodies.push(data);
    this.open += 1;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    try {
      await this.generate(data, response);
    } finally {
      this.open -= 1;
    }
  }

  /** The early Flask server: only POST /generate. */
  private async legacyRoute(request: IncomingMessage, raw: Buffer, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || request.url !== '/generate') return sendFlaskError(response, 404);
    const data = parseJsonObject(raw);
    if (data === undefined) return sendJson(response, 400, { error: 'Invalid JSON' });
    this.bodies.push(data);
    if (!data.prompt) return sendJson(response, 400, { error: 'Prompt is required' });
    const sampler = data.sampler ?? 'dpm++ 2m';
    if (typeof sampler !== 'string' || !SAMPLERS.includes(sampler)) {
      return sendJson(response, 400, { error: `Invalid sampler '${String(sampler)}'. Available samplers: [${SAMPLERS.map((name) => `'${name}'`).join(', ')}]` });
    }
    // torch.Generator.manual_seed(seed) takes an int only.
    if (data.seed !== undefined && !Number.isInteger(data.seed)) return sendFlaskError(response, 500);
    const seed = data.seed === undefined ? Math.floor(Math.random() * 2 ** 48) : (data.seed as number);
    const steps = Number(data.num_steps ?? 25);
    this.seedsUsed.push(String(seed));
    this.stepsUsed.push(steps);
    const img = (await pngOf(Number(data.width ?? 512), Number(data.height ?? 512), seed % 16777216)).toString('base64');
    sendBytes(response, 200, `${JSON.stringify({ img, seed })}\n`, 'text/json');
  }

  private async generate(data: Record<string, unknown>, response: ServerResponse): Promise<void> {
    const streaming = data.stream !== undefined && data.stream !== null;
    const invalid = validate(data);
    if (invalid && !streaming) {
      sendPythonError(response, 400, invalid, JSON.stringify({ error: invalid }));
      return;
    }
    const seed = data.seed === undefined ? randomSeed64() : BigInt(String(data.seed)).toString();
    const steps = Number(data.steps ?? data.num_steps ?? 25);
    const width = Number(data.width ?? 512);
    const height = Number(data.height ?? 512);
    const failure = this.failures.shift();
    if (this.options.generateMs) await delay(this.options.generateMs);
    if (!(this.options.models ?? ['dreamshaper_8', 'v1-5-pruned-emaonly']).includes(String(data.model))) {
      // The model is loaded (and found missing) only after validation, inside the generation.
      const details = `[Errno 2] No such file or directory: '/root/.imagine/models/${String(data.model)}.safetensors'`;
      sendPythonError(response, 500, 'Internal Server Error', JSON.stringify({ error: 'Internal server error during image generation', details }));
      return;
    }
    if (failure === 'cuda-500') {
      sendPythonError(response, 500, 'Internal Server Error', JSON.stringify({ error: 'Internal server error during image generation', details: 'CUDA out of memory. Tried to allocate 1.50 GiB' }));
      return;
    }
    this.seedsUsed.push(seed);
    this.stepsUsed.push(steps);
    const final = JSON.stringify({ img: (await pngOf(width, height, Number(BigInt(seed) % 16777216n))).toString('base64'), seed, status: 'final' });
    if (!streaming) {
      if (failure === 'truncated') {
        response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(final.length) });
        response.write(final.slice(0, final.length >> 1));
        response.destroy();
        return;
      }
      response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(final.length), 'Access-Control-Allow-Origin': '*' });
      response.end(final);
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/json', 'Access-Control-Allow-Origin': '*' });
    if (invalid) {
      // Validation runs after the headers went out: a second status line lands in the body.
      response.write(`HTTP/1.0 400 ${invalid}\r\n`);
      response.destroy();
      return;
    }
    const every = Math.max(1, Number(data.stream) || 1);
    for (let step = every; step < steps; step += every) {
      response.write(`${JSON.stringify({ img: (await pngOf(32, 48, step)).toString('base64'), seed, status: 'intermediate' })}\n`);
    }
    if (failure === 'truncated-stream') {
      response.destroy();
      return;
    }
    response.end(`${final}\n`);
  }
}

/** Flask's own error pages (the early server had no handler of its own for these). */
function sendFlaskError(response: ServerResponse, status: 404 | 500): void {
  const [title, text] =
    status === 404
      ? ['404 Not Found', 'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.']
      : ['500 Internal Server Error', 'The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.'];
  const body = `<!doctype html>\n<html lang=en>\n<title>${title}</title>\n<h1>${title.slice(4)}</h1>\n<p>${text}</p>\n`;
  response.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
  response.end(body);
}

export async function startFakeImagine(options: FakeImagineOptions = {}): Promise<FakeImagine> {
  return new FakeImagine(options).listen();
}

function parseJsonObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function validate(data: Record<string, unknown>): string | undefined {
  if (!data.prompt) return 'Prompt is required';
  if (!data.model) return 'Models is required';
  const sampler = data.sampler ?? 'dpm++ 2m';
  if (typeof sampler !== 'string' || !SAMPLERS.includes(sampler)) {
    return `Invalid sampler '${String(sampler)}'. Available samplers: [${SAMPLERS.map((name) => `'${name}'`).join(', ')}]`;
  }
  return undefined;
}

/** Python's `BaseHTTPRequestHandler.send_error`: the default HTML page, message escaped. */
export function sendPythonError(response: ServerResponse, code: number, message: string, explain: string): void {
  const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const body = `<!DOCTYPE HTML>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <title>Error response</title>
    </head>
    <body>
        <h1>Error response</h1>
        <p>Error code: ${code}</p>
        <p>Message: ${escape(message)}.</p>
        <p>Error code explanation: ${code} - ${escape(explain)}.</p>
    </body>
</html>
`;
  response.writeHead(code, message.replace(/[^\t\x20-\x7e]/g, '?'), {
    Connection: 'close',
    'Content-Type': 'text/html;charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  response.end(body);
}

function randomSeed64(): string {
  const high = BigInt(Math.floor(Math.random() * 2 ** 32));
  const low = BigInt(Math.floor(Math.random() * 2 ** 32));
  return ((high << 32n) | low).toString();
}
