/**
 * A local FooocusAPI (mrhan1993/FooocusAPI, the all-in-one API) speaking its documented
 * shapes (../shared/provider-apis.md §3.2): X-API-KEY → 403; POST /v1/engine/generate/ in
 * sync, binary (Accept: image/png), SSE (stream_output) and async modes; GET /tasks/{id}
 * walking a waiting DB row → the running record → the finished record, and `200 []` for an
 * unknown id; pictures only as URLs under /outputs/.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { delay, parseJson, samplePicture, sendBrokenJson, sendBytes, sendJson, startFakeServer, type FakeServer, type RecordedRequest } from './fake-http-kit.js';

export type FakeFooocusApiMode =
  | 'ok'
  /** Tasks end with task_status "stop" (someone pressed stop). */
  | 'stop'
  /** Tasks finish with an empty result list. */
  | 'empty-result'
  /** Tasks vanish after submission (history deleted): polls answer 200 []. */
  | 'forget'
  /** Finished records carry `result` as a JSON string, as some DB rows do. */
  | 'string-result'
  /** Every API answer is a 200 with truncated JSON. */
  | 'broken-json';

/** A scripted failure of the next generate calls only (other routes answer). */
export type FakeFooocusApiSubmitFailure =
  /** The task is queued (and runs), then the connection drops before the answer. */
  | 'drop-after-queue'
  /** The connection drops after the body was read, before anything was queued. */
  | 'drop-before-queue';

interface FakeTask {
  readonly id: string;
  readonly body: Record<string, unknown>;
  polls: number;
  readonly inQueue: number;
}

export interface FakeFooocusApiOptions {
  readonly apiKey?: string;
  readonly waitingPolls?: number;
  readonly runningPolls?: number;
  /** Result URLs: absolute on this base (the server's idea of its address), or relative `/outputs/...`. */
  readonly advertisedBase?: string;
  readonly relativeUrls?: boolean;
}

const STRICT_STRINGS = ['prompt', 'negative_prompt', 'performance_selection', 'aspect_ratios_selection'];

export class FakeFooocusApi {
  readonly requests: RecordedRequest[] = [];
  readonly tasks = new Map<string, FakeTask>();
  mode: FakeFooocusApiMode = 'ok';
  delayMs = 0;
  apiKey: string | undefined;
  waitingPolls: number;
  runningPolls: number;
  relativeUrls: boolean;
  private advertisedBase = '';
  private readonly submitFailures: FakeFooocusApiSubmitFailure[] = [];

  private constructor(
    private readonly server: FakeServer,
    readonly picture: Buffer,
    options: FakeFooocusApiOptions,
  ) {
    this.apiKey = options.apiKey;
    this.waitingPolls = options.waitingPolls ?? 1;
    this.runningPolls = options.runningPolls ?? 2;
    this.relativeUrls = options.relativeUrls ?? false;
  }

  static async start(options: FakeFooocusApiOptions = {}): Promise<FakeFooocusApi> {
    const picture = await samplePicture('png', '#aa6622');
    let fake: FakeFooocusApi | undefined;
    const server = await startFakeServer((request, response) => (fake as FakeFooocusApi).handle(request, response));
    fake = new FakeFooocusApi(server, picture, options);
    fake.advertisedBase = options.advertisedBase ?? server.url;
    return fake;
  }

  get url(): string {
    return this.server.url;
  }

  failNextSubmit(failure: FakeFooocusApiSubmitFailure, count = 1): void {
    for (let index = 0; index < count; index += 1) this.submitFailures.push(failure);
  }

  submissions(): RecordedRequest[] {
    return this.requests.filter((request) => request.path === '/v1/engine/generate/');
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(request: RecordedRequest, response: ServerResponse): Promise<void> {
    this.requests.push(request);
    if (this.delayMs > 0) await delay(this.delayMs);
    // Outputs are served by the open router, not the secure one (apis/routes/query.py).
    if (request.method === 'GET' && request.path.startsWith('/outputs/')) return this.output(request, response);
    if (this.apiKey !== undefined && request.headers['x-api-key'] !== this.apiKey) return sendJson(response, 403, { detail: 'Forbidden' });
    if (this.mode === 'broken-json') return sendBrokenJson(response);
    if (request.method === 'GET' && request.path === '/v1/engines/all-models') return sendJson(response, 200, { model_filenames: ['juggernautXL_v8Rundiffusion.safetensors'], lora_filenames: [] });
    if (request.method === 'POST' && request.path === '/v1/engine/generate') {
      // FastAPI redirects to the route with the trailing slash.
      response.writeHead(307, { Location: '/v1/engine/generate/' });
      response.end();
      return;
    }
    if (request.method === 'POST' && request.path === '/v1/engine/generate/') return this.generate(request, response);
    if (request.method === 'GET' && request.path === '/tasks') return this.listTasks(request, response);
    const task = /^\/tasks\/([^/]+)$/.exec(request.path);
    if (request.method === 'GET' && task) return this.query(decodeURIComponent(task[1] as string), response);
    return sendJson(response, 404, { detail: 'Not Found' });
  }

  /** routes/query.py get_tasks: DB rows of finished tasks (newest first, one page), the running one, the waiting ones. */
  private listTasks(request: RecordedRequest, response: ServerResponse): void {
    const query = request.query.get('query') ?? 'all';
    const pageSize = Number(request.query.get('page_size') ?? 10);
    const tasks = [...this.tasks.values()];
    const state = (task: FakeTask): 'pending' | 'current' | 'history' =>
      task.polls < this.waitingPolls ? 'pending' : task.polls < this.waitingPolls + this.runningPolls ? 'current' : 'history';
    const pick = (kind: string): boolean => query === 'all' || query === kind;
    return sendJson(response, 200, {
      history: pick('history') ? tasks.filter((task) => state(task) === 'history').reverse().slice(0, pageSize).map((task) => this.finishedRecord(task)) : [],
      current: pick('current') ? tasks.filter((task) => state(task) === 'current').map((task) => ({ ...this.waitingRow(task), task_status: 'running', progress: 50 })) : [],
      pending: pick('pending') ? tasks.filter((task) => state(task) === 'pending').map((task) => this.waitingRow(task)) : [],
    });
  }

  private async generate(request: RecordedRequest, response: ServerResponse): Promise<void> {
    const failure = this.submitFailures.shift();
    if (failure === 'drop-before-queue') {
      response.socket?.destroy();
      return;
    }
    const body = parseJson(request.body);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendJson(response, 422, { detail: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object', input: null }] });
    }
    const fields = body as Record<string, unknown>;
    for (const key of STRICT_STRINGS) {
      if (fields[key] !== undefined && typeof fields[key] !== 'string') {
        return sendJson(response, 422, { detail: [{ type: 'string_type', loc: ['body', key], msg: 'Input should be a valid string', input: fields[key] }] });
      }
    }
    const task: FakeTask = { id: randomUUID().replaceAll('-', ''), body: fields, polls: 0, inQueue: Date.now() };
    const accept = request.headers.accept ?? '';
    if (/^image\/(png|jpe?g|webp)$/.test(accept)) return sendBytes(response, 200, this.picture, 'image/png');
    if (fields['stream_output'] === true) {
      response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
      for (const progress of [10, 50]) {
        response.write(`data: ${JSON.stringify({ progress, preview: `data:image/png;base64,${this.picture.toString('base64')}`, message: `Sampling step ${progress}`, images: [] })}\r\n\r\n`);
        await delay(5);
      }
      this.tasks.set(task.id, task);
      response.end(`data: ${JSON.stringify({ progress: 100, preview: null, message: 'Finished', images: [this.resultUrl(task)] })}\r\n\r\n`);
      return;
    }
    if (this.mode !== 'forget') this.tasks.set(task.id, task);
    if (failure === 'drop-after-queue') {
      response.socket?.destroy();
      return;
    }
    if (fields['async_process'] === true) {
      return sendJson(response, 200, { id: -1, task_id: task.id, req_params: {}, in_queue_mills: -1, start_mills: -1, finish_mills: -1, task_status: 'pending', progress: -1, preview: '', webhook_url: '', result: [] });
    }
    return sendJson(response, 200, this.finishedRecord(task));
  }

  private query(id: string, response: ServerResponse): void {
    const task = this.tasks.get(id);
    if (!task) return sendJson(response, 200, []);
    task.polls += 1;
    if (task.polls <= this.waitingPolls) return sendJson(response, 200, this.waitingRow(task));
    if (task.polls <= this.waitingPolls + this.runningPolls) {
      const progress = Math.round(((task.polls - this.waitingPolls) / (this.runningPolls + 1)) * 100);
      return sendJson(response, 200, {
        id: null,
        task_id: task.id,
        req_params: task.body,
        in_queue_mills: task.inQueue,
        start_mills: task.inQueue + 5,
        finish_mills: null,
        task_status: 'running',
        progress,
        preview: this.picture.toString('base64'),
        webhook_url: '',
        result: [],
      });
    }
    if (this.mode === 'stop') return sendJson(response, 200, { ...this.finishedRecord(task), task_status: 'stop', result: [] });
    if (this.mode === 'empty-result') return sendJson(response, 200, { ...this.finishedRecord(task), result: [] });
    if (this.mode === 'string-result') return sendJson(response, 200, { ...this.finishedRecord(task), result: JSON.stringify([this.resultUrl(task)]) });
    return sendJson(response, 200, this.finishedRecord(task));
  }

  /** A DB row not yet picked up: status and progress still null. */
  private waitingRow(task: FakeTask): Record<string, unknown> {
    return { id: 1, task_id: task.id, req_params: task.body, in_queue_mills: task.inQueue, start_mills: null, finish_mills: null, task_status: null, progress: null, webhook_url: '', result: null };
  }

  private finishedRecord(task: FakeTask): Record<string, unknown> {
    return {
      id: 1,
      task_id: task.id,
      req_params: task.body,
      in_queue_mills: task.inQueue,
      start_mills: task.inQueue + 5,
      finish_mills: task.inQueue + 50,
      task_status: 'finished',
      progress: 100,
      webhook_url: '',
      result: [this.resultUrl(task)],
    };
  }

  private resultUrl(task: FakeTask): string {
    const path = `/outputs/2026-03-01/${task.id}.png`;
    return this.relativeUrls ? path : `${this.advertisedBase}${path}`;
  }

  private output(request: RecordedRequest, response: ServerResponse): void {
    const match = /^\/outputs\/\d{4}-\d{2}-\d{2}\/([0-9a-f]+)\.(png|jpg|jpeg|webp)$/.exec(request.path);
    if (!match || !this.tasks.has(match[1] as string)) {
      response.writeHead(404);
      response.end();
      return;
    }
    return sendBytes(response, 200, this.picture, 'image/png');
  }
}
