/**
 * A local Fooocus-API (mrhan1993/Fooocus-API) that speaks the documented shapes, errors
 * included (../shared/provider-apis.md §3.1 and "What a faithful mock server must do"):
 * X-API-KEY → 403 {"detail":"Forbidden"}; sync, binary and async text-to-image; query-job
 * walking WAITING → RUNNING → SUCCESS; unknown jobs → 404; queue-full, ERROR-stage, empty and
 * cancelled results; /files serving the pictures.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { delay, parseJson, samplePicture, sendBrokenJson, sendBytes, sendJson, startFakeServer, type FakeServer, type RecordedRequest } from './fake-http-kit.js';

const PERFORMANCE = ['Speed', 'Quality', 'Extreme Speed', 'Lightning', 'Hyper-SD'];

export type FakeFooocusMode =
  /** Jobs succeed. */
  | 'ok'
  /** The worker queue is full: QUEUE_IS_FULL. */
  | 'queue-full'
  /** Jobs end in the ERROR stage with job_result null. */
  | 'error-stage'
  /** Jobs end SUCCESS with an empty result list (a generation exception). */
  | 'empty-result'
  /** Jobs end with finish_reason USER_CANCEL. */
  | 'user-cancel'
  /** Every API answer is a 200 with truncated JSON. */
  | 'broken-json'
  /** /files serves an HTML page instead of the picture. */
  | 'not-an-image'
  /** The connection is dropped without an answer. */
  | 'drop';

/** A scripted failure of the next text-to-image calls only (other routes answer). */
export type FakeFooocusSubmitFailure =
  /** The job is queued (and runs), then the connection drops before the answer. */
  | 'drop-after-queue'
  /** The connection drops after the body was read, before anything was queued. */
  | 'drop-before-queue';

interface FakeJob {
  readonly id: string;
  readonly body: Record<string, unknown>;
  polls: number;
  readonly seed: number;
}

export interface FakeFooocusOptions {
  readonly apiKey?: string;
  /** Polls that still see WAITING, then RUNNING, before SUCCESS. */
  readonly waitingPolls?: number;
  readonly runningPolls?: number;
  /** The base written into result URLs (the server's idea of its address); its own URL by default. */
  readonly advertisedBase?: string;
  /** Older releases (fooocusapi/api.py before the routes were split) serve /ping outside the key check, as text/html. */
  readonly openPing?: boolean;
}

export class FakeFooocus {
  readonly requests: RecordedRequest[] = [];
  readonly jobs = new Map<string, FakeJob>();
  mode: FakeFooocusMode = 'ok';
  /** Every answer waits this long (a slow box). */
  delayMs = 0;
  apiKey: string | undefined;
  waitingPolls: number;
  runningPolls: number;
  private advertisedBase = '';
  private readonly openPing: boolean;
  private readonly submitFailures: FakeFooocusSubmitFailure[] = [];

  private constructor(
    private readonly server: FakeServer,
    readonly picture: Buffer,
    options: FakeFooocusOptions,
  ) {
    this.apiKey = options.apiKey;
    this.waitingPolls = options.waitingPolls ?? 1;
    this.runningPolls = options.runningPolls ?? 2;
    this.openPing = options.openPing ?? false;
  }

  static async start(options: FakeFooocusOptions = {}): Promise<FakeFooocus> {
    const picture = await samplePicture('png', '#2266aa');
    let fake: FakeFooocus | undefined;
    const server = await startFakeServer((request, response) => (fake as FakeFooocus).handle(request, response));
    fake = new FakeFooocus(server, picture, options);
    fake.advertisedBase = options.advertisedBase ?? server.url;
    return fake;
  }

  get url(): string {
    return this.server.url;
  }

  failNextSubmit(failure: FakeFooocusSubmitFailure, count = 1): void {
    for (let index = 0; index < count; index += 1) this.submitFailures.push(failure);
  }

  /** Like a restart: jobs live in memory only. */
  forgetJobs(): void {
    this.jobs.clear();
  }

  submissions(): RecordedRequest[] {
    return this.requests.filter((request) => request.path === '/v1/generation/text-to-image');
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(request: RecordedRequest, response: ServerResponse): Promise<void> {
    this.requests.push(request);
    if (this.delayMs > 0) await delay(this.delayMs);
    if (this.mode === 'drop') {
      response.socket?.destroy();
      return;
    }
    // The static route is not behind the key (fooocusapi/api.py mounts /files apart).
    if (request.path.startsWith('/files/')) return this.file(request, response);
    if (this.openPing && request.method === 'GET' && request.path === '/ping') return sendBytes(response, 200, 'pong', 'text/html; charset=utf-8');
    if (this.apiKey !== undefined && request.headers['x-api-key'] !== this.apiKey) return sendJson(response, 403, { detail: 'Forbidden' });
    if (this.mode === 'broken-json') return sendBrokenJson(response);
    if (request.method === 'GET' && request.path === '/ping') return sendJson(response, 200, 'pong');
    if (request.method === 'GET' && request.path === '/v1/engines/all-models') {
      return sendJson(response, 200, { model_filenames: ['juggernautXL_v8Rundiffusion.safetensors'], lora_filenames: [] });
    }
    if (request.method === 'POST' && request.path === '/v1/generation/text-to-image') return this.textToImage(request, response);
    if (request.method === 'GET' && request.path === '/v1/generation/query-job') return this.queryJob(request, response);
    if (request.method === 'GET' && request.path === '/v1/generation/job-history') {
      // In-memory mode (routes/query.py get_history): ids only, waiting and running jobs in `queue`.
      const listed = [...this.jobs.values()].map((job) => ({ job_id: job.id, is_finished: this.finished(job) }));
      return sendJson(response, 200, { queue: listed.filter((job) => !job.is_finished), history: listed.filter((job) => job.is_finished) });
    }
    if (request.method === 'GET' && request.path === '/v1/generation/job-queue') {
      return sendJson(response, 200, { running_size: this.jobs.size, finished_size: 0, last_job_id: [...this.jobs.keys()].pop() ?? null });
    }
    return sendJson(response, 404, { detail: 'Not Found' });
  }

  private finished(job: FakeJob): boolean {
    return job.polls > this.waitingPolls + this.runningPolls;
  }

  private textToImage(request: RecordedRequest, response: ServerResponse): void {
    const failure = this.submitFailures.shift();
    if (failure === 'drop-before-queue') {
      response.socket?.destroy();
      return;
    }
    const body = parseJson(request.body);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendJson(response, 422, { detail: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary', input: null }], body: request.body.toString() });
    }
    const fields = body as Record<string, unknown>;
    const performance = fields['performance_selection'];
    if (performance !== undefined && !PERFORMANCE.includes(String(performance))) {
      return sendJson(response, 422, {
        detail: [{ type: 'enum', loc: ['body', 'performance_selection'], msg: `Input should be ${PERFORMANCE.map((name) => `'${name}'`).join(', ')}`, input: performance }],
        body: request.body.toString(),
      });
    }
    const binary = request.headers.accept === 'image/png' || request.query.get('accept') === 'image/png';
    if (this.mode === 'queue-full') {
      const failure = [{ base64: null, url: null, seed: '', finish_reason: 'QUEUE_IS_FULL' }];
      if (binary) return sendBytes(response, 409, 'QUEUE_IS_FULL', 'text/plain');
      if (fields['async_process'] === true) {
        return sendJson(response, 200, { job_id: '', job_type: 'Text to Image', job_stage: 'ERROR', job_progress: 0, job_status: null, job_step_preview: null, job_result: failure });
      }
      return sendJson(response, 200, failure);
    }
    const requested = Number(fields['image_seed'] ?? -1);
    const job: FakeJob = { id: randomUUID(), body: fields, polls: 0, seed: requested === -1 ? 1_000_000 + Math.floor(Math.random() * 1e9) : requested };
    if (binary) {
      if (this.mode !== 'ok') return sendBytes(response, 500, 'ERROR', 'text/plain');
      return sendBytes(response, 200, this.picture, 'image/png');
    }
    this.jobs.set(job.id, job);
    if (failure === 'drop-after-queue') {
      response.socket?.destroy();
      return;
    }
    if (fields['async_process'] === true) return sendJson(response, 200, this.asyncResponse(job, 'WAITING'));
    // Sync: blocks until done; an exception leaves [] (api_utils.call_worker).
    return sendJson(response, 200, this.mode === 'ok' ? this.results(job) : []);
  }

  private queryJob(request: RecordedRequest, response: ServerResponse): void {
    const job = this.jobs.get(request.query.get('job_id') ?? '');
    if (!job) {
      return sendJson(response, 404, { job_id: '', job_type: 'Not Found', job_stage: 'ERROR', job_progress: 0, job_status: 'Job not found', job_step_preview: null, job_result: null });
    }
    job.polls += 1;
    const preview = request.query.get('require_step_preview') === 'true';
    if (job.polls <= this.waitingPolls) return sendJson(response, 200, this.asyncResponse(job, 'WAITING'));
    if (job.polls <= this.waitingPolls + this.runningPolls) return sendJson(response, 200, this.asyncResponse(job, 'RUNNING', preview));
    return sendJson(response, 200, this.asyncResponse(job, 'FINISHED'));
  }

  private asyncResponse(job: FakeJob, stage: 'WAITING' | 'RUNNING' | 'FINISHED', preview = false): Record<string, unknown> {
    const base = { job_id: job.id, job_type: 'Text to Image', job_step_preview: null as string | null, job_result: null as unknown };
    if (stage === 'WAITING') return { ...base, job_stage: 'WAITING', job_progress: 0, job_status: null };
    if (stage === 'RUNNING') {
      const progress = Math.round(((job.polls - this.waitingPolls) / (this.runningPolls + 1)) * 100);
      return { ...base, job_stage: 'RUNNING', job_progress: progress, job_status: `Sampling step ${progress}/100`, job_step_preview: preview ? this.picture.toString('base64') : null };
    }
    switch (this.mode) {
      case 'error-stage':
        return { ...base, job_stage: 'ERROR', job_progress: 100, job_status: 'Error' };
      case 'empty-result':
        return { ...base, job_stage: 'SUCCESS', job_progress: 100, job_status: 'Finished', job_result: [] };
      case 'user-cancel':
        return { ...base, job_stage: 'SUCCESS', job_progress: 100, job_status: 'Finished', job_result: [{ base64: null, url: null, seed: String(job.seed), finish_reason: 'USER_CANCEL' }] };
      default:
        return { ...base, job_stage: 'SUCCESS', job_progress: 100, job_status: 'Finished', job_result: this.results(job) };
    }
  }

  private results(job: FakeJob): Record<string, unknown>[] {
    const withBase64 = job.body['require_base64'] === true;
    return [
      {
        base64: withBase64 ? `data:image/png;base64,${this.picture.toString('base64')}` : null,
        url: `${this.advertisedBase}/files/2026-03-01/${job.id}-0.png`,
        seed: String(job.seed),
        finish_reason: 'SUCCESS',
      },
    ];
  }

  private file(request: RecordedRequest, response: ServerResponse): void {
    const match = /^\/files\/\d{4}-\d{2}-\d{2}\/([0-9a-f-]+)-0\.png$/.exec(request.path);
    if (!match || !this.jobs.has(match[1] as string)) return sendBytes(response, 404, '{"detail":"Not Found"}', 'application/json');
    if (this.mode === 'not-an-image') return sendBytes(response, 200, '<html><body><h1>502 Bad Gateway</h1></body></html>', 'text/html');
    return sendBytes(response, 200, this.picture, 'image/png');
  }
}
