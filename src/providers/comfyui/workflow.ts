/**
 * A user's ComfyUI workflow in the API format ("Export (API)" in the menu): an object of
 * nodes, `{"3": {"class_type": "KSampler", "inputs": {...}}, ...}`. Placeholders in its string
 * values are filled for each picture. A value that is exactly a numeric placeholder
 * (`"seed": "{{seed}}"`) becomes a number, since ComfyUI's INT inputs refuse strings; any
 * other occurrence is replaced inside the text. Filling works on the parsed JSON, so a
 * prompt with quotes or backslashes can never break the graph.
 */
import { readFileSync } from 'node:fs';

export const PLACEHOLDERS = ['prompt', 'negative', 'seed', 'width', 'height', 'steps'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type PlaceholderValues = Readonly<Record<Placeholder, string | number>>;

const NUMERIC: ReadonlySet<string> = new Set<Placeholder>(['seed', 'width', 'height', 'steps']);
const ANY_PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

export interface WorkflowNode {
  readonly class_type: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

export interface Workflow {
  readonly file: string;
  readonly nodes: Readonly<Record<string, WorkflowNode>>;
  /** The placeholders the file uses. */
  readonly placeholders: ReadonlySet<Placeholder>;
  /** Things worth a warning that do not stop the workflow from running. */
  readonly warnings: readonly string[];
}

/** A workflow file that cannot be used; the message names the file. */
export class WorkflowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkflowError';
  }
}

export function loadWorkflowFile(file: string): Workflow {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new WorkflowError(`workflow ${file}: cannot be read (${code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message)})`);
  }
  return parseWorkflow(text, file);
}

export function parseWorkflow(text: string, file: string): Workflow {
  const fail = (why: string): never => {
    throw new WorkflowError(`workflow ${file}: ${why}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(raw)) return fail('expected a JSON object of nodes (the API format)');
  if (Array.isArray(raw.nodes) && Array.isArray(raw.links)) {
    return fail('this is the editor format; save the workflow with "Export (API)" (older versions: enable dev mode, then "Save (API Format)")');
  }
  // The body of a POST /prompt, saved as it was sent: its graph is under "prompt".
  const graph = isRecord(raw.prompt) && Object.values(raw.prompt).every(isRecord) ? raw.prompt : raw;
  const nodes: Record<string, WorkflowNode> = {};
  for (const [id, node] of Object.entries(graph)) {
    if (!isRecord(node) || typeof node.class_type !== 'string' || !isRecord(node.inputs)) {
      return fail(`node "${id}" is not a node of the API format (expected {"class_type": "...", "inputs": {...}})`);
    }
    nodes[id] = { class_type: node.class_type, inputs: node.inputs };
  }
  if (Object.keys(nodes).length === 0) return fail('the workflow has no nodes');

  const placeholders = new Set<Placeholder>();
  for (const [id, node] of Object.entries(nodes)) {
    for (const text of strings(node.inputs)) {
      for (const match of text.matchAll(ANY_PLACEHOLDER)) {
        const name = match[1] as string;
        if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
          fail(`node "${id}" (${node.class_type}) uses {{${name}}}; the placeholders are ${PLACEHOLDERS.map((known) => `{{${known}}}`).join(', ')}`);
        }
        placeholders.add(name as Placeholder);
      }
    }
  }

  const warnings: string[] = [];
  if (!placeholders.has('prompt')) warnings.push('it has no {{prompt}}: every picture uses the prompt saved in the workflow');
  if (!placeholders.has('seed')) warnings.push('it has no {{seed}}: ComfyUI may answer the same graph with the same cached picture');
  if (!Object.values(nodes).some((node) => /save|preview/i.test(node.class_type))) {
    warnings.push('no node looks like an output (SaveImage): ComfyUI refuses a graph without one');
  }
  return { file, nodes, placeholders, warnings };
}

/** The graph to submit, with every placeholder filled. The workflow itself is not changed. */
export function fillWorkflow(workflow: Workflow, values: PlaceholderValues): Record<string, unknown> {
  return fill(workflow.nodes, values) as Record<string, unknown>;
}

function fill(value: unknown, values: PlaceholderValues): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    if (whole && NUMERIC.has(whole[1] as string)) return Number(values[whole[1] as Placeholder]);
    return value.replace(ANY_PLACEHOLDER, (_text, name: string) => String(values[name as Placeholder]));
  }
  if (Array.isArray(value)) return value.map((item) => fill(item, values));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item, values)]));
  return value;
}

function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* strings(item);
  else if (isRecord(value)) for (const item of Object.values(value)) yield* strings(item);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
