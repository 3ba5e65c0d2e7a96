/**
 * FooocusAPI (mrhan1993/FooocusAPI, the newer all-in-one API) as a provider: POST
 * /v1/engine/generate/ with `async_process`, then GET /tasks/{task_id} until the task ends;
 * pictures come back only as URLs under /outputs/. Facts: ../shared/provider-apis.md §3.2.
 */
import { z } from 'zod';
import { checkAnswer, parseAnswer } from '../http/parse-answer.js';
import { RemoteError } from '../http/remote-error.js';
import { parseJsonBody } from '../http/remote-http.js';
import { ProviderError } from '../types.js';
import { FooocusJobProvider, type FooocusFields, type FooocusProviderOptions, type JobPoll, type ListedJob } from './fooocus-job-provider.js';

export const ENGINE_GENERATE_PATH = '/v1/engine/generate/';
export const TASKS_PATH = '/tasks/';
export const TASKS_LIST_PATH = '/tasks';
export const ALL_MODELS_PATH = '/v1/engines/all-models';

/** `RecordResponse` (apis/models/response.py) and the DB record: only the fields read here. */
const recordSchema = z.object({
  task_id: z.string().nullish(),
  task_status: z.string().nullish(),
  progress: z.number().nullish(),
  preview: z.string().nullish(),
  // A list of URLs; accepted as a string too (JSON text or comma-separated), as older DB rows hold it.
  result: z.union([z.array(z.string()), z.string()]).nullish(),
});

type TaskRecord = z.output<typeof recordSchema>;

/** GET /tasks (apis/routes/query.py get_tasks): records with the request they were made from. */
const listedRecordSchema = z.object({
  task_id: z.string().nullish(),
  req_params: z.object({ prompt: z.unknown(), image_seed: z.unknown() }).partial().loose().nullish(),
});
const taskListSchema = z.object({
  history: z.array(listedRecordSchema).default([]),
  current: z.array(listedRecordSchema).default([]),
  pending: z.array(listedRecordSchema).default([]),
});
/** Finished tasks read, newest first: far more than finish within a retry's wait. */
const RECENT_TASKS = 20;

export class FooocusApiProvider extends FooocusJobProvider {
  readonly displayName = 'FooocusAPI';
  protected readonly jobKind = 'fooocusapi';

  constructor(options: FooocusProviderOptions) {
    super(options, 'fooocusapi', '/outputs/');
  }

  protected async probe(signal: AbortSignal): Promise<void> {
    const response = await this.http.send({ path: ALL_MODELS_PATH, signal });
    this.ensureOk(response);
  }

  protected async submit(fields: FooocusFields, signal: AbortSignal): Promise<string> {
    const response = await this.http.send({ method: 'POST', path: ENGINE_GENERATE_PATH, json: { ...fields, async_process: true }, signal });
    this.ensureOk(response);
    const record = parseAnswer(recordSchema, response, 'the new task');
    if (!record.task_id) throw new RemoteError(`${response.url} queued no task`, { failure: 'invalid-response', status: response.status, url: response.url });
    return record.task_id;
  }

  protected async listJobs(signal: AbortSignal): Promise<readonly ListedJob[]> {
    const response = await this.http.send({ path: TASKS_LIST_PATH, query: { query: 'all', page_size: RECENT_TASKS }, signal });
    this.ensureOk(response);
    const { history, current, pending } = parseAnswer(taskListSchema, response, 'the task list');
    return [...pending, ...current, ...history].flatMap((record): ListedJob[] =>
      record.task_id ? [{ id: record.task_id, ...(record.req_params ? { request: record.req_params } : {}) }] : [],
    );
  }

  protected async poll(task: string, signal: AbortSignal): Promise<JobPoll> {
    const response = await this.http.send({ path: `${TASKS_PATH}${encodeURIComponent(task)}`, signal });
    this.ensureOk(response);
    const body = parseJsonBody(response);
    // An unknown id is not a 404 here but 200 with `[]` (apis/routes/query.py tasks_info).
    if (Array.isArray(body) && body.length === 0) {
      throw new ProviderError(`${response.url}: FooocusAPI does not know task ${task} (was its history deleted?)`);
    }
    const record = checkAnswer(recordSchema, Array.isArray(body) ? body[0] : body, response, 'the task');
    return outcome(task, record, response.url);
  }
}

function outcome(task: string, record: TaskRecord, url: string): JobPoll {
  switch (record.task_status) {
    case 'finished': {
      const first = resultUrls(record.result)[0];
      if (first === undefined) throw new ProviderError(`FooocusAPI finished task ${task} without a picture`);
      return { state: 'done', picture: { url: first } };
    }
    case 'stop':
    case 'skip':
      throw new ProviderError(`FooocusAPI task ${task} was stopped on the server (${record.task_status})`);
    case 'pending':
    case 'running':
    case null:
    case undefined:
      // Rows still waiting have no status or progress yet; a pending acknowledgement says -1.
      return {
        state: 'waiting',
        ...(typeof record.progress === 'number' && record.progress >= 0 ? { progress: record.progress } : {}),
        ...(record.preview ? { preview: record.preview } : {}),
      };
    default:
      throw new RemoteError(`${url} reported task ${task} as "${record.task_status}"`, { failure: 'invalid-response', url });
  }
}

function resultUrls(result: TaskRecord['result']): string[] {
  if (result === undefined || result === null) return [];
  if (Array.isArray(result)) return result.filter((item) => item !== '');
  const text = result.trim();
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.filter((item): item is string => typeof item === 'string' && item !== '');
    } catch {
      // Not JSON after all: read as a list below.
    }
  }
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
}
