/** Small pieces the fake generator servers share (fake-a1111, fake-imagine, fake-comfyui, fake-fooocus, fake-openai...). */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import sharp from 'sharp';

/** Listens on a loopback port chosen by the system; resolves with the base URL. */
export async function listenOnLoopback(server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes the server, cutting open connections (a hanging request included). */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A URL where nothing listens (a server that is down). */
export async function closedUrl(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface FakeServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, port 0; the handler gets each request with its body read. */
export async function startFakeServer(handler: (request: RecordedRequest, response: ServerResponse, raw: IncomingMessage) => Promise<void> | void): Promise<FakeServer> {
  const server: Server = createServer((raw, response) => {
    void (async () => {
      const body = await readBody(raw);
      const parsed = new URL(raw.url ?? '/', 'http://fake');
      const request: RecordedRequest = { method: raw.method ?? 'GET', path: parsed.pathname, query: parsed.searchParams, headers: raw.headers, body };
      try {
        await handler(request, response, raw);
      } catch (error) {
        if (!response.headersSent) sendJson(response, 500, { detail: `fake server bug: ${(error as Error).message}` });
        else response.destroy();
      }
    })();
  });
  const url = await listenOnLoopback(server);
  return { url, port: (server.address() as AddressInfo).port, close: () => closeServer(server) };
}

export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export function sendJson(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  sendBytes(response, status, JSON.stringify(value), 'application/json', headers);
}

export function sendBytes(response: ServerResponse, status: number, body: Buffer | string, contentType: string, headers: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.length, ...headers });
  response.end(bytes);
}

/** A 200 whose JSON stops half-way: a proxy or a crashing worker. */
export function sendBrokenJson(response: ServerResponse): void {
  sendBytes(response, 200, '{"job_id": "abc", "job_stage": "SUCC', 'application/json');
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A real small picture, as a generator would send it. */
export async function samplePicture(format: 'png' | 'webp' | 'jpeg' = 'png', colour = '#336699', width = 48, height = 72): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: colour } });
  return format === 'png' ? image.png().toBuffer() : format === 'webp' ? image.webp().toBuffer() : image.jpeg().toBuffer();
}

/** A real PNG whose colour follows the seed, so different seeds give different pictures. */
export function pngOf(width: number, height: number, seed: number): Promise<Buffer> {
  const r = seed % 256;
  const g = Math.floor(seed / 256) % 256;
  const b = Math.floor(seed / 65536) % 256;
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
