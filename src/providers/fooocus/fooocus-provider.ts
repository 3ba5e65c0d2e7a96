/**
 * Fooocus-API (mrhan1993/Fooocus-API) as a provider: POST /v1/generation/text-to-image with
 * `async_process`, then GET /v1/generation/query-job until the job ends.
 * Facts behind the choices: ../shared/provider-apis.md §3.1.
 */
import { z } from 'zod';
import { parseAnswer } from '../http/parse-answer.js';
import { RemoteError } from '../http/remote-error.js';
import { ProviderError } from '../types.js';
import { parseSeed } from './fooocus-common.js';
import { FooocusJobProvider, type FooocusFields, type FooocusProviderOptions, type JobPoll, type ListedJob } from './fooocus-job-provider.js';

export interface FooocusApiOptions extends FooocusProviderOptions {
  /** Ask for the picture inline (saves a download); the URL is fetched when it is missing. */
  readonly requireBase64: boolean;
  /** Ask each poll for a step preview (shown as the operation's progress picture). */
  readonly stepPreview: boolean;
}

export const GENERATE_PATH = '/v1/generation/text-to-image';
export const QUERY_JOB_PATH = '/v1/generation/query-job';
export const JOB_QUEUE_PATH = '/v1/generation/job-queue';
export const JOB_HISTORY_PATH = '/v1/generation/job-history';

const resultItemSchema = z.object({
  base64: z.string().nullish(),
  url: z.string().nullish(),
  seed: z.union([z.string(), z.number()]).nullish(),
  finish_reason: z.string().nullish(),
});

/** `AsyncJobResponse` (fooocusapi/models/common/response.py): only the fields read here. */
const asyncJobSchema = z.object({
  // The docs' example shows a number; the code makes a uuid4 string.
  job_id: z.union([z.string(), z.number()]).nullish(),
  job_stage: z.string().nullish(),
  job_progress: z.number().nullish(),
  job_status: z.string().nullish(),
  job_step_preview: z.string().nullish(),
  job_result: z.array(resultItemSchema).nullish(),
});

/**
 * One entry of GET /v1/generation/job-history (routes/query.py get_history): `{job_id,
 * is_finished}` in memory; with --persistent the history comes from the database as
 * `{params, task_info: {task_id, ...}}`, the request's fields in `params`.
 */
const listedJobSchema = z.object({
  job_id: z.union([z.string(), z.number()]).nullish(),
  task_info: z.object({ task_id: z.string().nullish() }).loose().nullish(),
  params: z.object({ prompt: z.unknown(), image_seed: z.unknown() }).partial().loose().nullish(),
});
const jobHistorySchema = z.object({ queue: z.array(listedJobSchema).default([]), history: z.array(listedJobSchema).default([]) });

type AsyncJob = z.output<typeof asyncJobSchema>;
type ResultItem = z.output<typeof resultItemSchema>;

export class FooocusProvider extends FooocusJobProvider {
  readonly displayName = 'Fooocus-API';
  protected readonly jobKind = 'fooocus-api';

  constructor(private readonly apiOptions: FooocusApiOptions) {
    super(apiOptions, 'fooocus', '/files/');
  }

  protected async probe(signal: AbortSignal): Promise<void> {
    // The job queue sits behind the API key check in every release (/ping does not in older
    // ones), so a wrong key shows here, not at the first picture.
    const response = await this.http.send({ path: JOB_QUEUE_PATH, signal });
    this.ensureOk(response);
  }

  protected async submit(fields: FooocusFields, signal: AbortSignal): Promise<string> {
    const response = await this.http.send({
      method: 'POST',
      path: GENERATE_PATH,
      json: { ...fields, require_base64: this.apiOptions.requireBase64, async_process: true },
      signal,
    });
    this.ensureOk(response);
    const job = parseAnswer(asyncJobSchema, response, 'the new job');
    const id = job.job_id === undefined || job.job_id === null ? '' : String(job.job_id);
    if (id !== '') return id;
    // A full queue answers 200 with an ERROR job that has no id (api_utils.call_worker).
    if (finishReasons(job.job_result).includes('QUEUE_IS_FULL')) {
      throw new ProviderError(`${response.url}: the Fooocus queue is full; trying again later`, { retryable: true });
    }
    throw new RemoteError(`${response.url} queued no job (stage ${job.job_stage ?? 'unknown'})`, { failure: 'invalid-response', status: response.status, url: response.url });
  }

  protected async listJobs(signal: AbortSignal): Promise<readonly ListedJob[]> {
    const response = await this.http.send({ path: JOB_HISTORY_PATH, signal });
    this.ensureOk(response);
    const { queue, history } = parseAnswer(jobHistorySchema, response, 'the job history');
    return [...queue, ...history].flatMap((item): ListedJob[] => {
      const id = item.job_id ?? item.task_info?.task_id;
      if (id === undefined || id === null || id === '') return [];
      return [{ id: String(id), ...(item.params ? { request: item.params } : {}) }];
    });
  }

  protected async poll(job: string, signal: AbortSignal): Promise<JobPoll> {
    const response = await this.http.send({
      path: QUERY_JOB_PATH,
      query: { job_id: job, require_step_preview: this.apiOptions.stepPreview },
      signal,
    });
    if (response.status === 404) {
      // Jobs live in memory: a restarted server has forgotten ours. Asking again will not help.
      throw new ProviderError(`${response.url}: Fooocus does not know job ${job} (was the server restarted?)`);
    }
    this.ensureOk(response);
    const answer = parseAnswer(asyncJobSchema, response, 'the job');
    return this.outcome(job, answer, response.url);
  }

  private outcome(job: string, answer: AsyncJob, url: string): JobPoll {
    switch (answer.job_stage) {
      case 'SUCCESS':
        return finished(job, answer.job_result ?? [], url);
      case 'ERROR':
        // The engine's message is not exposed; job_status is the best there is.
        throw new ProviderError(`Fooocus failed job ${job}${answer.job_status ? `: ${answer.job_status}` : ''}`);
      default:
        return {
          state: 'waiting',
          ...(answer.job_progress === undefined || answer.job_progress === null ? {} : { progress: answer.job_progress }),
          ...(answer.job_step_preview ? { preview: answer.job_step_preview } : {}),
        };
    }
  }
}

function finished(job: string, results: readonly ResultItem[], url: string): JobPoll {
  const success = results.find((item) => item.finish_reason === 'SUCCESS' || (item.finish_reason == null && (item.base64 || item.url)));
  if (success) {
    const seed = parseSeed(success.seed);
    return {
      state: 'done',
      picture: { ...(success.base64 ? { base64: success.base64 } : {}), ...(success.url ? { url: success.url } : {}) },
      ...(seed === undefined ? {} : { seed }),
    };
  }
  const reasons = finishReasons(results);
  if (reasons.includes('QUEUE_IS_FULL')) throw new ProviderError(`${url}: the Fooocus queue was full for job ${job}`);
  if (reasons.includes('USER_CANCEL')) throw new ProviderError(`Fooocus job ${job} was cancelled on the server`);
  // A generation exception leaves an empty result list.
  throw new ProviderError(`Fooocus finished job ${job} without a picture${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`);
}

function finishReasons(results: readonly ResultItem[] | null | undefined): string[] {
  return (results ?? []).map((item) => item.finish_reason ?? '').filter((reason) => reason !== '');
}
