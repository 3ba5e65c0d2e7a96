/**
 * A local stand-in for ComfyUI's HTTP API (../shared/provider-apis.md §6 and "ComfyUI
 * mock"): POST /prompt validates the graph the way ComfyUI does (unknown node classes,
 * graphs without outputs, values not in a list, INT inputs that are not numbers) and answers
 * `{error, node_errors}` with 400; one job runs at a time; GET /history/{id} is `{}` until the
 * job is done; /view serves the PNG; /queue, /interrupt and /system_stats behave as
 * documented; every route is mirrored under /api. No WebSocket (optional in the API).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, delay, listenOnLoopback, pngOf, readBody, sendJson } from './fake-http-kit.js';

const SAMPLERS = ['euler', 'euler_ancestral', 'dpmpp_2m', 'dpmpp_sde', 'ddim'];
const SCHEDULERS = ['normal', 'karras', 'exponential', 'simple'];
const CHECKPOINTS = ['v1-5-pruned-emaonly.safetensors', 'sd_xl_base_1.0.safetensors'];
const KNOWN_CLASSES = new Set(['CheckpointLoaderSimple', 'CLIPTextEncode', 'EmptyLatentImage', 'KSampler', 'VAEDecode', 'SaveImage', 'PreviewImage']);
const OUTPUT_CLASSES = new Set(['SaveImage', 'PreviewImage']);
const INT_INPUTS: Record<string, string[]> = { EmptyLatentImage: ['width', 'height', 'batch_size'], KSampler: ['seed', 'steps'] };

export type ComfyFailure =
  | 'execution-error' // the run fails: history status "error" with an execution_error message
  | 'hang' // the run never ends until interrupted
  | 'lost' // the job vanishes (a restart): in neither queue nor history
  | 'view-404' // the picture cannot be fetched
  | 'drop-after-queue' // the prompt is queued (and runs), then the connection drops before the answer
  | 'drop-before-queue'; // the connection drops after the body was read, before anything was queued

export interface FakeComfyOptions {
  /** Milliseconds a job runs (default 20). */
  readonly runMs?: number;
}

interface Job {
  readonly id: string;
  readonly number: number;
  readonly prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  /** The output nodes that passed validation: only these run. */
  readonly outputs: readonly string[];
  /** `extra_data` of the request with `client_id` put in, as server.py post_prompt stores it. */
  readonly extraData: Record<string, unknown>;
  readonly failure: ComfyFailure | undefined;
  interrupted: boolean;
}

interface Problem {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export class FakeComfyUI {
  /** Bodies of POST /prompt, as received. */
  readonly submitted: Record<string, unknown>[] = [];
  /** Bodies of POST /interrupt (`{}` or `{prompt_id}`) and of POST /queue. */
  readonly interrupts: unknown[] = [];
  readonly queueEdits: unknown[] = [];
  readonly viewQueries: URLSearchParams[] = [];
  private readonly pending: Job[] = [];
  private running: Job | undefined;
  private readonly history = new Map<string, Record<string, unknown>>();
  private readonly files = new Map<string, Buffer>();
  private readonly failures: ComfyFailure[] = [];
  private counter = 0;
  private number = 0;
  private readonly server = createServer((request, response) => void this.handle(request, response));
  url = '';

  constructor(private readonly options: FakeComfyOptions = {}) {}

  async listen(): Promise<this> {
    this.url = await listenOnLoopback(this.server);
    return this;
  }

  failNext(failure: ComfyFailure, count = 1): void {
    for (let index = 0; index < count; index += 1) this.failures.push(failure);
  }

  /** Prompts queued in all (each one runs): what the GPU was asked to do. */
  get jobsQueued(): number {
    return this.number;
  }

  /** Ids of jobs waiting or running. */
  queuedIds(): string[] {
    return [...(this.running ? [this.running.id] : []), ...this.pending.map((job) => job.id)];
  }

  close(): Promise<void> {
    for (const job of [...this.pending, ...(this.running ? [this.running] : [])]) job.interrupted = true;
    return closeServer(this.server);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname;
    const raw = await readBody(request);
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        response.writeHead(400, { 'Content-Type': 'text/plain' });
        response.end('400: Invalid JSON');
        return;
      }
    }
    if (request.method === 'POST' && path === '/prompt') return this.submit(body, response);
    if (request.method === 'GET' && path === '/history') {
      // The whole history, oldest first; max_items keeps the newest (server.py get_history).
      const max = Number(url.searchParams.get('max_items') ?? Number.NaN);
      const entries = [...this.history.entries()];
      sendJson(response, 200, Object.fromEntries(Number.isInteger(max) && max > 0 ? entries.slice(-max) : entries));
      return;
    }
    if (request.method === 'GET' && path.startsWith('/history/')) {
      const id = decodeURIComponent(path.slice('/history/'.length));
      const entry = this.history.get(id);
      sendJson(response, 200, entry ? { [id]: entry } : {});
      return;
    }
    if (request.method === 'GET' && path === '/view') {
      this.viewQueries.push(url.searchParams);
      const key = `${url.searchParams.get('type') ?? 'output'}/${url.searchParams.get('subfolder') ?? ''}/${url.searchParams.get('filename') ?? ''}`;
      const file = this.files.get(key);
      if (!file) {
        response.writeHead(404, { 'Content-Type': 'text/plain' });
        response.end('404: Not Found');
        return;
      }
      response.writeHead(200, { 'Content-Type': 'image/png', 'Content-Disposition': `filename="${url.searchParams.get('filename')}"` });
      response.end(file);
      return;
    }
    if (request.method === 'GET' && path === '/queue') {
      const item = (job: Job): unknown[] => [job.number, job.id, job.prompt, job.extraData, job.outputs];
      sendJson(response, 200, { queue_running: this.running ? [item(this.running)] : [], queue_pending: this.pending.map(item) });
      return;
    }
    if (request.method === 'POST' && path === '/queue') {
      this.queueEdits.push(body);
      const remove = Array.isArray(body.delete) ? new Set(body.delete) : new Set<unknown>();
      if (body.clear === true) this.pending.splice(0);
      for (let index = this.pending.length - 1; index >= 0; index -= 1) if (remove.has(this.pending[index]!.id)) this.pending.splice(index, 1);
      response.writeHead(200);
      response.end();
      return;
    }
    if (request.method === 'POST' && path === '/interrupt') {
      this.interrupts.push(body);
      const target = typeof body.prompt_id === 'string' ? body.prompt_id : undefined;
      if (this.running && (target === undefined || target === this.running.id)) this.running.interrupted = true;
      response.writeHead(200);
      response.end();
      return;
    }
    if (request.method === 'GET' && path === '/system_stats') {
      sendJson(response, 200, {
        system: { os: 'posix', ram_total: 33_000_000_000, ram_free: 20_000_000_000, comfyui_version: '0.3.40', python_version: '3.12.3', pytorch_version: '2.7.0+cu128', embedded_python: false, argv: ['main.py'] },
        devices: [{ name: 'cuda:0 NVIDIA GeForce RTX 3060 : cudaMallocAsync', type: 'cuda', index: 0, vram_total: 12_884_901_888, vram_free: 11_000_000_000, torch_vram_total: 0, torch_vram_free: 0 }],
      });
      return;
    }
    response.writeHead(404, { 'Content-Type': 'text/plain' });
    response.end('404: Not Found');
  }

  private submit(body: Record<string, unknown>, response: ServerResponse): void {
    this.submitted.push(body);
    if (this.failures[0] === 'drop-before-queue') {
      this.failures.shift();
      response.socket?.destroy();
      return;
    }
    const prompt = body.prompt;
    if (typeof prompt !== 'object' || prompt === null || Array.isArray(prompt)) {
      sendJson(response, 400, { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} });
      return;
    }
    const graph = prompt as Job['prompt'];
    for (const [id, node] of Object.entries(graph)) {
      if (!KNOWN_CLASSES.has(node?.class_type)) {
        sendJson(response, 400, {
          error: { type: 'invalid_prompt', message: `Cannot execute because node ${String(node?.class_type)} does not exist.`, details: `Node ID '#${id}'`, extra_info: {} },
          node_errors: {},
        });
        return;
      }
    }
    const outputs = this.outputNodes(graph);
    if (outputs.length === 0) {
      sendJson(response, 400, { error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, node_errors: [] });
      return;
    }
    // As execution.validate_prompt: each output is checked with the nodes it depends on. Only
    // when no output is left is the prompt refused; otherwise it runs the good outputs, and the
    // 200 answer still lists the errors of the others.
    const nodeErrors: Record<string, { errors: Problem[]; dependent_outputs: string[]; class_type: string }> = {};
    const goodOutputs: string[] = [];
    for (const output of outputs) {
      const bad = ancestors(graph, output).filter((id) => validateNode(graph[id]!).length > 0);
      if (bad.length === 0) goodOutputs.push(output);
      for (const id of bad) {
        const entry = (nodeErrors[id] ??= { errors: validateNode(graph[id]!), dependent_outputs: [], class_type: graph[id]!.class_type });
        entry.dependent_outputs.push(output);
      }
    }
    if (goodOutputs.length === 0) {
      sendJson(response, 400, { error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} }, node_errors: nodeErrors });
      return;
    }
    const extraData = { ...(typeof body.extra_data === 'object' && body.extra_data !== null ? body.extra_data : {}), ...(body.client_id === undefined ? {} : { client_id: body.client_id }) };
    const failure = this.failures.shift();
    const job: Job = { id: randomUUID(), number: this.number++, prompt: graph, outputs: goodOutputs, extraData, failure, interrupted: false };
    if (job.failure !== 'lost') this.pending.push(job);
    if (failure === 'drop-after-queue') response.socket?.destroy();
    else sendJson(response, 200, { prompt_id: job.id, number: job.number, node_errors: nodeErrors });
    if (!this.running) void this.work();
  }

  /** Runs queued jobs one at a time, as ComfyUI's single prompt worker does. */
  private async work(): Promise<void> {
    for (let job = this.pending.shift(); job; job = this.pending.shift()) {
      this.running = job;
      const started = Date.now();
      const messages: unknown[] = [['execution_start', { prompt_id: job.id, timestamp: started }]];
      await delay(this.options.runMs ?? 20);
      while (job.failure === 'hang' && !job.interrupted) await delay(10);
      await this.finish(job, messages);
      // As in ComfyUI's task_done, the job leaves the queue and enters the history together.
      this.running = undefined;
    }
  }

  private async finish(job: Job, messages: unknown[]): Promise<void> {
    if (job.interrupted) {
      messages.push(['execution_interrupted', { prompt_id: job.id, node_id: '3', node_type: 'KSampler', executed: ['4', '5', '6', '7'], timestamp: Date.now() }]);
      this.history.set(job.id, this.entry(job, {}, 'error', false, messages));
      return;
    }
    if (job.failure === 'execution-error') {
      messages.push([
        'execution_error',
        {
          prompt_id: job.id,
          node_id: '3',
          node_type: 'KSampler',
          executed: ['4', '5', '6', '7'],
          exception_message: 'Allocation on device 0 would exceed allowed memory. (out of memory)\n',
          exception_type: 'torch.OutOfMemoryError',
          traceback: ['  File "execution.py", line 327, in execute\n'],
          current_inputs: {},
          current_outputs: {},
          timestamp: Date.now(),
        },
      ]);
      this.history.set(job.id, this.entry(job, {}, 'error', false, messages));
      return;
    }
    const outputs: Record<string, { images: { filename: string; subfolder: string; type: string }[] }> = {};
    const latent = Object.values(job.prompt).find((node) => node.class_type === 'EmptyLatentImage')?.inputs ?? {};
    const sampler = Object.values(job.prompt).find((node) => node.class_type === 'KSampler')?.inputs ?? {};
    const png = await pngOf(Number(latent.width ?? 512), Number(latent.height ?? 512), Number(sampler.seed ?? 0));
    for (const id of job.outputs) {
      const node = job.prompt[id]!;
      this.counter += 1;
      const temp = node.class_type === 'PreviewImage';
      const prefix = temp ? 'ComfyUI_temp_abcde' : String(node.inputs.filename_prefix ?? 'ComfyUI');
      const image = { filename: `${prefix}_${String(this.counter).padStart(5, '0')}_.png`, subfolder: '', type: temp ? 'temp' : 'output' };
      if (job.failure !== 'view-404') this.files.set(`${image.type}/${image.subfolder}/${image.filename}`, png);
      outputs[id] = { images: [image] };
    }
    messages.push(['execution_cached', { nodes: [], prompt_id: job.id, timestamp: Date.now() }], ['execution_success', { prompt_id: job.id, timestamp: Date.now() }]);
    this.history.set(job.id, this.entry(job, outputs, 'success', true, messages));
  }

  private entry(job: Job, outputs: unknown, status: string, completed: boolean, messages: unknown[]): Record<string, unknown> {
    return {
      prompt: [job.number, job.id, job.prompt, job.extraData, job.outputs],
      outputs,
      status: { status_str: status, completed, messages },
      meta: {},
    };
  }

  private outputNodes(graph: Job['prompt']): string[] {
    return Object.entries(graph)
      .filter(([, node]) => OUTPUT_CLASSES.has(node.class_type))
      .map(([id]) => id);
  }
}

export async function startFakeComfyUI(options: FakeComfyOptions = {}): Promise<FakeComfyUI> {
  return new FakeComfyUI(options).listen();
}

/** The node and every node it takes an input from (`["id", index]` links), transitively. */
function ancestors(graph: Job['prompt'], start: string): string[] {
  const seen = new Set<string>();
  const visit = (id: string): void => {
    if (seen.has(id) || graph[id] === undefined) return;
    seen.add(id);
    for (const value of Object.values(graph[id].inputs)) {
      if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number') visit(value[0]);
    }
  };
  visit(start);
  return [...seen];
}

function validateNode(node: { class_type: string; inputs: Record<string, unknown> }): Problem[] {
  const errors: Problem[] = [];
  for (const name of INT_INPUTS[node.class_type] ?? []) {
    const value = node.inputs[name];
    if (value === undefined) {
      errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: { input_name: name } });
    } else if (!(typeof value === 'number' ? Number.isInteger(value) : typeof value === 'string' && /^-?\d+$/.test(value.trim()))) {
      // ComfyUI runs int() on INT inputs: a number or numeric text passes, "{{seed}}" does not.
      errors.push({
        type: 'invalid_input_type',
        message: 'Failed to convert an input value to a INT value',
        details: `${name}, ${String(value)}, invalid literal for int() with base 10: '${String(value)}'`,
        extra_info: { input_name: name },
      });
    }
  }
  const inList = (name: string, list: readonly string[]): void => {
    const value = node.inputs[name];
    if (value !== undefined && !list.includes(String(value))) {
      errors.push({
        type: 'value_not_in_list',
        message: 'Value not in list',
        details: `${name}: '${String(value)}' not in [${list.map((item) => `'${item}'`).join(', ')}]`,
        extra_info: { input_name: name, received_value: value },
      });
    }
  };
  if (node.class_type === 'KSampler') {
    inList('sampler_name', SAMPLERS);
    inList('scheduler', SCHEDULERS);
  }
  if (node.class_type === 'CheckpointLoaderSimple') inList('ckpt_name', CHECKPOINTS);
  return errors;
}
