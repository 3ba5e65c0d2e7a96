/** Small helpers for the JSON API tests: requests with or without the token, and an event-stream reader. */
import { get as httpGet } from 'node:http';
import { samplePicture } from '../support/fake-http-kit.js';

export const TOKEN = 'test-admin-token-0123456789';
/** options.yml text that sets the token; append other keys after it. */
export const TOKEN_OPTIONS = `admin_token: ${TOKEN}\n`;

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly json: any; // tests read any field
  readonly bytes: Buffer;
}

export interface ApiRequest {
  readonly body?: unknown;
  /** Sent as `Authorization: Bearer <token>`; `null` sends no header. Default: no header. */
  readonly token?: string | null;
  readonly headers?: Record<string, string>;
  /** A raw body, sent as is (bad JSON, huge bodies). */
  readonly rawBody?: string;
}

export async function call(baseUrl: string, method: string, path: string, request: ApiRequest = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  if (request.token) headers['Authorization'] = `Bearer ${request.token}`;
  let body: string | undefined = request.rawBody;
  if (request.body !== undefined) {
    body = JSON.stringify(request.body);
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const bytes = Buffer.from(await response.arrayBuffer());
  let json: unknown;
  if ((response.headers.get('content-type') ?? '').includes('json') && bytes.length > 0) json = JSON.parse(bytes.toString('utf8'));
  return { status: response.status, headers: response.headers, json, bytes };
}

/** Same as {@link call}, with the test token. */
export function admin(baseUrl: string, method: string, path: string, request: Omit<ApiRequest, 'token'> = {}): Promise<ApiResponse> {
  return call(baseUrl, method, path, { ...request, token: TOKEN });
}

export interface StreamEvent {
  /** `message` for an event without a name, `comment` for a `:` line. */
  readonly event: string;
  readonly data: any;
}

export interface EventReader {
  readonly status: number;
  readonly headers: Headers;
  /** The next event or comment; undefined once the server ended the stream. */
  next(): Promise<StreamEvent | undefined>;
  /** Every remaining event until the end, comments left out. */
  rest(): Promise<StreamEvent[]>;
  /** Disconnects, as a closed browser tab does. */
  close(): void;
}

/**
 * Opens a Server-Sent Events stream and parses it block by block. Uses node:http on a
 * connection of its own: fetch would open a spare keep-alive connection beside it, which
 * keeps the server's close waiting for the client's idle timeout.
 */
export function openEvents(url: string): Promise<EventReader> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent: false, headers: { Accept: 'text/event-stream' } }, (response) => {
      response.setEncoding('utf8');
      let buffer = '';
      let ended = false;
      let wake: (() => void) | undefined;
      const notify = (): void => {
        wake?.();
        wake = undefined;
      };
      response.on('data', (chunk: string) => {
        buffer += chunk;
        notify();
      });
      const finish = (): void => {
        ended = true;
        notify();
      };
      response.on('end', finish);
      response.on('close', finish);
      response.on('error', finish);
      const next = async (): Promise<StreamEvent | undefined> => {
        for (;;) {
          const end = buffer.indexOf('\n\n');
          if (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            return parseBlock(block);
          }
          if (ended) return undefined;
          await new Promise<void>((woken) => (wake = woken));
        }
      };
      const headers = new Headers();
      for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(name, value);
      resolve({
        status: response.statusCode ?? 0,
        headers,
        next,
        async rest() {
          const events: StreamEvent[] = [];
          for (let event = await next(); event !== undefined; event = await next()) if (event.event !== 'comment') events.push(event);
          return events;
        },
        close: () => request.destroy(),
      });
    });
    request.on('error', reject);
  });
}

function parseBlock(block: string): StreamEvent {
  if (block.startsWith(':')) return { event: 'comment', data: block.slice(1).trim() };
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice('event: '.length);
    else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
  }
  return { event, data: JSON.parse(data.join('\n')) };
}

/** The next event that is not a heartbeat comment. */
export async function nextEvent(reader: EventReader): Promise<StreamEvent | undefined> {
  for (;;) {
    const event = await reader.next();
    if (event === undefined || event.event !== 'comment') return event;
  }
}

export function jpeg(width: number, height: number, colour: string): Promise<Buffer> {
  return samplePicture('jpeg', colour, width, height);
}

/** Polls GET /api/generations/:id until the generation is no longer pending; returns it. */
export async function waitUntilFinished(baseUrl: string, id: string): Promise<{ status: string; [key: string]: unknown }> {
  for (;;) {
    const { json } = await call(baseUrl, 'GET', `/api/generations/${id}`);
    if (json.generation.status !== 'pending') return json.generation;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
