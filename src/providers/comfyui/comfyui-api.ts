/**
 * The parts of ComfyUI's HTTP API this adapter uses, only the fields it reads.
 * Facts: ../shared/provider-apis.md §6 (comfy: server.py, execution.py).
 */
import { z } from 'zod';
import type { RemoteError } from '../http/remote-error.js';
import { jsonBodyAs } from '../http/parse-answer.js';
import { httpStatusError, type RemoteResponse } from '../http/remote-http.js';

export const PROMPT_PATH = '/prompt';
export const QUEUE_PATH = '/queue';
export const INTERRUPT_PATH = '/interrupt';
export const VIEW_PATH = '/view';
export const SYSTEM_STATS_PATH = '/system_stats';
/** GET: every prompt done, oldest first; `max_items` keeps the newest. */
export const HISTORY_PATH = '/history';
export const historyPath = (promptId: string): string => `/history/${encodeURIComponent(promptId)}`;

export const submitAnswerSchema = z.object({
  prompt_id: z.string().min(1),
  /** Errors of output nodes left out of the run; `{}` when the whole graph is valid. */
  node_errors: z.unknown().optional(),
});

const imageRefSchema = z.object({
  filename: z.string(),
  subfolder: z.string().default(''),
  type: z.string().default('output'),
});
export type ImageRef = z.output<typeof imageRefSchema>;

/** One entry of GET /history/{id}; absent (`{}`) until the prompt is done. */
export const historyEntrySchema = z.object({
  outputs: z.record(z.string(), z.object({ images: z.array(imageRefSchema).optional() }).loose()).default({}),
  status: z
    .object({
      status_str: z.string().optional(),
      completed: z.boolean().optional(),
      /** `[type, data]` pairs: execution_start, execution_cached, execution_error, ... */
      messages: z.array(z.tuple([z.string(), z.unknown()])).default([]),
    })
    .optional(),
});
export type HistoryEntry = z.output<typeof historyEntrySchema>;

/** `queue_running` / `queue_pending` items are `[number, prompt_id, prompt, extra_data, outputs]`. */
export const queueAnswerSchema = z.object({
  queue_running: z.array(z.array(z.unknown())).default([]),
  queue_pending: z.array(z.array(z.unknown())).default([]),
});

export function queuedIds(items: readonly (readonly unknown[])[]): string[] {
  return items.map((item) => item[1]).filter((id): id is string => typeof id === 'string');
}

/** The picture to fetch: a saved output first, a preview (type "temp") otherwise. */
export function pickImage(entry: HistoryEntry): ImageRef | undefined {
  const images = Object.values(entry.outputs).flatMap((output) => output.images ?? []);
  return images.find((image) => image.type === 'output') ?? images[0];
}

const executionErrorSchema = z.object({
  node_id: z.union([z.string(), z.number()]).optional(),
  node_type: z.string().optional(),
  exception_type: z.string().optional(),
  exception_message: z.string().optional(),
});

/** Why a finished prompt failed, from its history messages. */
export function describeExecutionFailure(entry: HistoryEntry): string {
  for (const [type, data] of entry.status?.messages ?? []) {
    if (type === 'execution_interrupted') return 'the job was interrupted on the server';
    if (type !== 'execution_error') continue;
    const parsed = executionErrorSchema.safeParse(data);
    if (!parsed.success) break;
    const { node_id: nodeId, node_type: nodeType, exception_type: exceptionType, exception_message: exceptionMessage } = parsed.data;
    const where = nodeId === undefined ? '' : ` in node ${nodeId}${nodeType ? ` (${nodeType})` : ''}`;
    const what = [exceptionType, exceptionMessage?.trim()].filter(Boolean).join(': ');
    return `the workflow failed${where}${what ? `: ${what}` : ''}`;
  }
  return `the workflow ended with status "${entry.status?.status_str ?? 'unknown'}"`;
}

const problemSchema = z.object({
  type: z.string().optional(),
  message: z.string().optional(),
  details: z.string().optional(),
});

const nodeErrorsSchema = z
  .union([
    z.record(z.string(), z.object({ class_type: z.string().optional(), errors: z.array(problemSchema).default([]) }).loose()),
    z.array(z.unknown()),
  ])
  .optional();

const refusalSchema = z.object({
  error: z.union([z.string(), problemSchema]).optional(),
  node_errors: nodeErrorsSchema,
});

/**
 * A refused POST /prompt as a readable error: the reason, then each node's problems, e.g.
 * `Prompt outputs failed validation; node 3 (KSampler): Value not in list: sampler_name: 'x' not in [...]`.
 */
export function comfyError(response: RemoteResponse): RemoteError {
  const parsed = jsonBodyAs(refusalSchema, response.body);
  if (parsed?.error === undefined) return httpStatusError(response);
  const { error, node_errors: nodeErrors } = parsed;
  const parts = [typeof error === 'string' ? error : joinProblem(error), ...describeNodeErrors(nodeErrors)];
  return httpStatusError(response, `: ${parts.filter(Boolean).join('; ')}`);
}

/** `node_errors` as one `node <id> (<class>): <problems>` line per node; none for `{}`, `[]` or an unknown shape. */
export function describeNodeErrors(nodeErrors: unknown): string[] {
  const parsed = nodeErrorsSchema.safeParse(nodeErrors);
  if (!parsed.success || parsed.data === undefined || Array.isArray(parsed.data)) return [];
  return Object.entries(parsed.data).map(([id, node]) => {
    const problems = node.errors.map(joinProblem).join('; ');
    return `node ${id}${node.class_type ? ` (${node.class_type})` : ''}: ${problems || 'invalid'}`;
  });
}

function joinProblem(problem: z.output<typeof problemSchema>): string {
  return [problem.message, problem.details].filter((part) => part !== undefined && part !== '').join(': ') || (problem.type ?? '');
}
