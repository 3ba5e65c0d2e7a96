/**
 * A local stand-in for AUTOMATIC1111's web API (`--api`, optionally `--api-auth`), speaking
 * the documented shapes (../shared/provider-apis.md §2 and "A1111 mock"): txt2img under one
 * global lock, `info` as a JSON string with the seed used, the `{error, detail, body, errors}`
 * envelope, 401 with `WWW-Authenticate: Basic`, progress while a job runs, interrupt.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, delay, listenOnLoopback, pngOf, readBody, sendJson as send } from './fake-http-kit.js';

export interface FakeA1111Options {
  /** Turns on `--api-auth user:pass`. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Milliseconds per sampling step (slow mode); 0 by default. */
  readonly stepDelayMs?: number;
  /**
   * Each progress poll advances the running job by one step (and nothing else does), so a
   * test sees every step without depending on timing. Only for clients that poll progress.
   */
  readonly stepOnPoll?: boolean;
  /** Fills `current_image` in progress answers (live previews on). */
  readonly previews?: boolean;
  /** Leave `current_task` out of progress answers, as servers before v1.6 do. */
  readonly legacyProgress?: boolean;
  /** `--nowebui`: the API alone, without the web UI's POST /internal/progress. */
  readonly noWebUi?: boolean;
}

/** A scripted failure for the next txt2img calls. */
export type A1111Failure =
  | 'oom' // 500 {"error":"OutOfMemoryError",...}
  | 'proxy-html' // 502 HTML page from a reverse proxy
  | 'truncated' // 200 headers, then half a JSON body and the connection dropped
  | 'not-json' // 200 with a body that is not JSON
  | 'hang' // the job runs (holding the lock) until interrupted, then answers as usual
  | 'gateway-timeout' // a reverse proxy gives up at once with 504 while the job runs on (until interrupted)
  | 'drop-after-start' // the connection drops once the job started; the job runs on (until interrupted), its answer lost
  | 'drop-before-queue'; // the connection drops after the body was read, before the job was queued: nothing runs

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown> | undefined;
}

const MODELS = [
  {
    title: 'v1-5-pruned-emaonly.safetensors [6ce0161689]',
    model_name: 'v1-5-pruned-emaonly',
    hash: '6ce0161689',
    sha256: '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa',
    filename: '/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors',
    config: null,
  },
  {
    title: 'dreamshaper_8.safetensors [879db523c3]',
    model_name: 'dreamshaper_8',
    hash: '879db523c3',
    sha256: '879db523c30d3b9017143d56705015e15a2cb5628762c11d086fed9538abd7fd',
    filename: '/models/Stable-diffusion/dreamshaper_8.safetensors',
    config: null,
  },
];

const SAMPLERS = [
  { name: 'DPM++ 2M', aliases: ['k_dpmpp_2m'], options: {} },
  { name: 'Euler a', aliases: ['k_euler_a', 'k_euler_ancestral'], options: { uses_ensd: 'True' } },
  { name: 'Euler', aliases: ['k_euler'], options: {} },
  { name: 'DDIM', aliases: [], options: {} },
];

interface Job {
  readonly taskId: string;
  readonly steps: number;
  step: number;
  interrupted: boolean;
  /** stepOnPoll: the last step has been reported by a poll, and another poll came after it. */
  released?: boolean;
}

export class FakeA1111 {
  readonly requests: RecordedRequest[] = [];
  /** Bodies of txt2img calls that became jobs, in arrival order. */
  readonly txt2img: Record<string, unknown>[] = [];
  interrupts = 0;
  /** The most txt2img requests that were open at the same time (the client should send one at a time). */
  maxOpenTxt2img = 0;
  /** Seeds of finished jobs, in order, as reported in `info`. */
  readonly seedsUsed: number[] = [];
  private openTxt2img = 0;
  private closed = false;
  private readonly failures: A1111Failure[] = [];
  private lock: Promise<void> = Promise.resolve();
  private current: Job | undefined;
  /** progress.py: task ids waiting for the lock, and the last 16 finished. */
  private readonly pendingTasks = new Set<string>();
  private readonly finishedTasks: string[] = [];
  private currentModel = MODELS[0]!.title;
  private readonly server = createServer((request, response) => void this.handle(request, response));
  url = '';

  constructor(private readonly options: FakeA1111Options = {}) {}

  /** Port 0: one the system picks; a fixed port brings a "stopped" server back. */
  async listen(port = 0): Promise<this> {
    this.url = await listenOnLoopback(this.server, port);
    return this;
  }

  /** The next `count` txt2img calls fail this way. */
  failNext(failure: A1111Failure, count = 1): void {
    for (let index = 0; index < count; index += 1) this.failures.push(failure);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.current) this.current.interrupted = true;
    await closeServer(this.server);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const raw = await readBody(request);
    let body: Record<string, unknown> | undefined;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        send(response, 422, { detail: [{ loc: ['body'], msg: 'Expecting value', type: 'value_error.jsondecode' }] });
        return;
      }
    }
    this.requests.push({ method: request.method ?? 'GET', path: url.pathname, headers: request.headers, body });
    response.setHeader('X-Process-Time', '0.001');
    if (url.pathname.startsWith('/sdapi/v1/') && !this.authorised(request, response)) return;
    const route = `${request.method} ${url.pathname}`;
    switch (route) {
      case 'GET /sdapi/v1/sd-models':
        send(response, 200, MODELS);
        return;
      case 'GET /sdapi/v1/samplers':
        send(response, 200, SAMPLERS);
        return;
      case 'GET /sdapi/v1/progress':
        send(response, 200, await this.progress(url.searchParams.get('skip_current_image') === 'true'));
        return;
      case 'POST /sdapi/v1/interrupt':
        this.interrupts += 1;
        // Stops the running job only; the next one runs as usual (state.begin() resets the flag).
        if (this.current) this.current.interrupted = true;
        send(response, 200, {});
        return;
      case 'POST /sdapi/v1/txt2img':
        await this.txt2imgRoute(body ?? {}, response);
        return;
      case 'POST /internal/progress':
        if (this.options.noWebUi) break;
        send(response, 200, this.taskProgress(body ?? {}));
        return;
      case 'POST /sdapi/v1/img2img':
        if (!Array.isArray(body?.init_images) || body.init_images.length === 0) {
          send(response, 404, { error: 'HTTPException', detail: 'Init image not found', body: '', errors: '404: Init image not found' });
          return;
        }
        await this.txt2imgRoute(body, response);
        return;
      default:
        break;
    }
    send(response, 404, { detail: 'Not Found' });
  }

  /** progress.py progressapi: where the task of `id_task` is (the web UI's own route, outside --api-auth). */
  private taskProgress(body: Record<string, unknown>): Record<string, unknown> {
    const id = body.id_task;
    const active = typeof id === 'string' && this.current?.taskId === id;
    const queued = typeof id === 'string' && this.pendingTasks.has(id);
    const completed = typeof id === 'string' && this.finishedTasks.includes(id);
    if (!active) return { active, queued, completed, progress: null, eta: null, live_preview: null, id_live_preview: -1, textinfo: queued ? 'In queue...' : 'Waiting...' };
    const job = this.current as Job;
    return { active, queued, completed, progress: job.step / job.steps, eta: null, live_preview: null, id_live_preview: -1, textinfo: null };
  }

  /** `--api-auth`: FastAPI's HTTPBasic answers 401 "Not authenticated" without a header. */
  private authorised(request: IncomingMessage, response: ServerResponse): boolean {
    const auth = this.options.auth;
    if (auth === undefined) return true;
    const header = request.headers.authorization;
    if (header === undefined || !header.startsWith('Basic ')) {
      send(response, 401, { detail: 'Not authenticated' }, { 'WWW-Authenticate': 'Basic' });
      return false;
    }
    const [username, password] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    if (username !== auth.username || password !== auth.password) {
      send(response, 401, { detail: 'Incorrect username or password' }, { 'WWW-Authenticate': 'Basic' });
      return false;
    }
    return true;
  }

  private async txt2imgRoute(body: Record<string, unknown>, response: ServerResponse): Promise<void> {
    if (this.failures[0] === 'drop-before-queue') {
      this.failures.shift();
      response.socket?.destroy();
      return;
    }
    this.txt2img.push(body);
    this.openTxt2img += 1;
    this.maxOpenTxt2img = Math.max(this.maxOpenTxt2img, this.openTxt2img);
    response.on('close', () => {
      this.openTxt2img -= 1;
    });
    const steps = body.steps ?? 50;
    if (typeof steps !== 'number' || !Number.isInteger(steps)) {
      send(response, 422, { detail: [{ loc: ['body', 'steps'], msg: 'value is not a valid integer', type: 'type_error.integer' }] });
      return;
    }
    const sampler = body.sampler_name ?? 'Euler';
    if (!SAMPLERS.some((known) => known.name === sampler || known.aliases.includes(sampler as string))) {
      send(response, 400, { error: 'HTTPException', detail: 'Sampler not found', body: '', errors: '400: Sampler not found' });
      return;
    }
    // add_task_to_queue before the lock (api.py text2imgapi), start_task once it is held.
    const taskId = typeof body.force_task_id === 'string' ? body.force_task_id : `task(${Math.random().toString(36).slice(2)})`;
    this.pendingTasks.add(taskId);
    // queue_lock: one generation at a time, later calls wait.
    const previous = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      this.pendingTasks.delete(taskId);
      await this.runJob(body, taskId, steps, response);
      this.finishedTasks.push(taskId);
      if (this.finishedTasks.length > 16) this.finishedTasks.shift();
    } finally {
      this.current = undefined;
      release();
    }
  }

  private async runJob(body: Record<string, unknown>, taskId: string, steps: number, response: ServerResponse): Promise<void> {
    const failure = this.failures.shift();
    const job: Job = { taskId, steps, step: 0, interrupted: false };
    this.current = job;
    const endless = failure === 'hang' || failure === 'gateway-timeout' || failure === 'drop-after-start';
    if (failure === 'drop-after-start') response.socket?.destroy();
    if (failure === 'gateway-timeout') {
      // nginx's proxy_read_timeout ran out: the client gets a 504, the server keeps working.
      response.writeHead(504, { 'Content-Type': 'text/html' });
      response.end('<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx/1.24.0</center></body></html>');
    }
    while (!job.interrupted && !this.closed && (endless || (this.options.stepOnPoll ? !job.released : job.step < steps))) {
      if (endless || this.options.stepOnPoll) {
        await delay(5);
        continue;
      }
      if (this.options.stepDelayMs) await delay(this.options.stepDelayMs);
      job.step += 1;
    }
    if (failure === 'gateway-timeout' || failure === 'drop-after-start') return;
    if (failure === 'oom') {
      send(response, 500, {
        error: 'OutOfMemoryError',
        detail: '',
        body: '',
        errors: 'CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB total capacity)',
      });
      return;
    }
    if (failure === 'proxy-html') {
      response.writeHead(502, { 'Content-Type': 'text/html' });
      response.end('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.24.0</center></body></html>');
      return;
    }
    if (failure === 'not-json') {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end('Internal server error');
      return;
    }
    const width = typeof body.width === 'number' ? body.width : 512;
    const height = typeof body.height === 'number' ? body.height : 512;
    const requested = typeof body.seed === 'number' ? body.seed : -1;
    const seed = requested === -1 ? Math.floor(Math.random() * 4294967294) : requested;
    const image = await pngOf(width, height, seed);
    const checkpoint = (body.override_settings as { sd_model_checkpoint?: string } | undefined)?.sd_model_checkpoint;
    const model = MODELS.find((known) => known.title === checkpoint) ?? MODELS.find((known) => known.title === this.currentModel)!;
    const info = {
      prompt: body.prompt ?? '',
      all_prompts: [body.prompt ?? ''],
      negative_prompt: body.negative_prompt ?? '',
      all_negative_prompts: [body.negative_prompt ?? ''],
      seed,
      all_seeds: [seed],
      subseed: 1234,
      all_subseeds: [1234],
      subseed_strength: 0,
      width,
      height,
      sampler_name: body.sampler_name ?? 'Euler',
      cfg_scale: body.cfg_scale ?? 7,
      steps,
      batch_size: 1,
      restore_faces: false,
      face_restoration_model: null,
      sd_model_name: model.model_name,
      sd_model_hash: model.hash,
      sd_vae_name: null,
      sd_vae_hash: null,
      seed_resize_from_w: -1,
      seed_resize_from_h: -1,
      denoising_strength: null,
      extra_generation_params: body.scheduler === undefined ? {} : { 'Schedule type': body.scheduler },
      index_of_first_image: 0,
      infotexts: [`${String(body.prompt ?? '')}\nSteps: ${steps}, Seed: ${seed}`],
      styles: [],
      job_timestamp: '20260301120000',
      clip_skip: 1,
      is_using_inpainting_conditioning: false,
      version: 'v1.10.1',
    };
    this.seedsUsed.push(seed);
    const answer = JSON.stringify({ images: [image.toString('base64')], parameters: body, info: JSON.stringify(info) });
    if (failure === 'truncated') {
      response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(answer.length) });
      response.write(answer.slice(0, Math.floor(answer.length / 2)));
      response.destroy();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(answer);
  }

  private async progress(skipImage: boolean): Promise<Record<string, unknown>> {
    const job = this.current;
    if (job && this.options.stepOnPoll) {
      if (job.step < job.steps) job.step += 1;
      else job.released = true;
    }
    const state = {
      skipped: false,
      interrupted: job?.interrupted ?? false,
      stopping_generation: false,
      job: job ? 'txt2img' : '',
      job_count: job ? 1 : 0,
      job_timestamp: '20260301120000',
      job_no: 0,
      sampling_step: job?.step ?? 0,
      sampling_steps: job?.steps ?? 0,
    };
    const preview = job && this.options.previews && !skipImage && job.step > 0 ? (await pngOf(64, 96, job.step)).toString('base64') : null;
    return {
      progress: job ? job.step / job.steps : 0,
      eta_relative: job ? (job.steps - job.step) * ((this.options.stepDelayMs ?? 0) / 1000) : 0,
      state,
      current_image: preview,
      textinfo: null,
      ...(this.options.legacyProgress ? {} : { current_task: job?.taskId ?? null }),
    };
  }
}

export async function startFakeA1111(options: FakeA1111Options = {}): Promise<FakeA1111> {
  return new FakeA1111(options).listen();
}
