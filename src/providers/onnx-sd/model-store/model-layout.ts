import { open, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { findCatalogueEntry } from './catalogue.js';
import { MANIFEST_FILE, ManifestError, readManifest } from './manifest.js';

/**
 * The files the ONNX pipeline cannot run without, in the diffusers/optimum layout
 * (/work/shared/onnx-sd.md §1.1). External weight files (`model.onnx_data`, `weights.pb`)
 * are found from the model itself, see {@link externalDataFiles}.
 */
export const REQUIRED_MODEL_FILES: readonly string[] = Object.freeze([
  'text_encoder/model.onnx',
  'unet/model.onnx',
  'vae_decoder/model.onnx',
  'tokenizer/vocab.json',
  'tokenizer/merges.txt',
  'scheduler/scheduler_config.json',
]);

/** The ONNX graphs among {@link REQUIRED_MODEL_FILES}: the files whose external weights are looked for. */
export const MODEL_GRAPH_FILES: readonly string[] = Object.freeze(REQUIRED_MODEL_FILES.filter((file) => file.endsWith('.onnx')));

export interface LayoutProblem {
  readonly file: string;
  readonly problem: string;
}

export type LayoutReport =
  | { readonly ok: true }
  | { readonly ok: false; readonly problems: readonly LayoutProblem[]; readonly summary: string };

/** How users are told to fetch a catalogue model; `npm run model` runs bin/aiframe-model.js. */
export function pullCommand(name: string): string {
  return `npm run model -- pull ${name}`;
}

/**
 * `providers.onnx.model`: a catalogue name or folder name under modelsDir, or a path to a
 * folder (absolute, or starting with ./ ../ ~/). Relative paths resolve against the
 * working directory, `~/` against the home directory.
 */
export function resolveModelDir(modelsDir: string, model: string): string {
  if (model === '~' || model.startsWith('~/')) return join(homedir(), model.slice(1));
  if (isAbsolute(model) || model === '.' || model === '..' || /^\.\.?[\\/]/.test(model)) return resolve(model);
  return resolve(modelsDir, model);
}

/** Quick check for readiness: the required files exist and are non-empty (no hashing). */
export async function checkModelLayout(dir: string): Promise<LayoutReport> {
  const name = basename(dir);
  const catalogued = findCatalogueEntry(name) !== undefined;
  const dirStat = await stat(dir).catch(() => undefined);
  if (dirStat === undefined) {
    return failure(
      [{ file: dir, problem: 'folder does not exist' }],
      catalogued ? `model missing (run: ${pullCommand(name)})` : `model folder ${dir} does not exist`,
    );
  }
  if (!dirStat.isDirectory()) {
    return failure([{ file: dir, problem: 'not a folder' }], `model path ${dir} is not a folder`);
  }

  // A folder left by an interrupted pull holds `.partial` files and no manifest yet.
  let manifest;
  try {
    manifest = await readManifest(dir);
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    return failure([{ file: MANIFEST_FILE, problem: error.message }], `${error.message} (run: ${pullCommand(name)})`);
  }
  if (manifest === undefined && (await hasPartialFiles(dir))) {
    return failure(
      [{ file: dir, problem: 'download not finished' }],
      `download of ${name} not finished (run: ${pullCommand(catalogued ? name : '<name>')})`,
    );
  }

  const problems: LayoutProblem[] = [];
  const expected = new Map<string, number | undefined>();
  for (const file of REQUIRED_MODEL_FILES) expected.set(file, undefined);
  for (const file of manifest?.files ?? []) expected.set(file.path, file.size);
  for (const [file, size] of expected) {
    const problem = await fileProblem(join(dir, file), size);
    if (problem !== undefined) problems.push({ file, problem });
  }
  // Models whose weights live beside them must have those files too (checked only for
  // folders without a manifest; a manifest already lists them).
  if (manifest === undefined) {
    for (const model of MODEL_GRAPH_FILES) {
      if (problems.some((p) => p.file === model)) continue;
      for (const location of await externalDataFiles(join(dir, model))) {
        const file = `${dirname(model)}/${location}`;
        const problem = await fileProblem(join(dir, file), undefined);
        if (problem !== undefined) problems.push({ file, problem: `${problem} (external weights of ${model})` });
      }
    }
  }
  if (problems.length === 0) return { ok: true };
  if (manifest === undefined && catalogued && REQUIRED_MODEL_FILES.every((file) => problems.some((p) => p.file === file))) {
    return failure(problems, `model missing (run: ${pullCommand(name)})`);
  }
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  const hint = manifest !== undefined ? ` (run: npm run model -- verify ${name})` : '';
  return failure(problems, `${first.file} ${first.problem} in ${dir}${more}${hint}`);
}

function failure(problems: readonly LayoutProblem[], summary: string): LayoutReport {
  return { ok: false, problems, summary };
}

async function fileProblem(path: string, expectedSize: number | undefined): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return 'is missing';
  if (!info.isFile()) return 'is not a file';
  if (expectedSize !== undefined && info.size !== expectedSize) return `has ${info.size} bytes, expected ${expectedSize}`;
  if (expectedSize === undefined && info.size === 0) return 'is empty';
  return undefined;
}

/** Whether an interrupted pull left `.partial` files somewhere in `dir`. */
export async function hasPartialFiles(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.some((entry) => entry.endsWith('.partial'));
}

/** Models with external weights are small graphs; bigger files carry their weights inline. */
const MAX_SCANNED_MODEL_BYTES = 64 * 1024 * 1024;
const LOCATION_ENTRY = Buffer.from('\x0a\x08location\x12', 'latin1');

/**
 * The external-data file names an ONNX model refers to. Each external tensor carries a
 * StringStringEntryProto `{key: "location", value: <file>}` (onnx.proto `external_data`),
 * which is encoded as bytes 0x0a 0x08 "location" 0x12 <varint length> <file>; scanning for
 * that is enough here and avoids parsing the whole protobuf.
 */
export async function externalDataFiles(modelPath: string): Promise<readonly string[]> {
  const handle = await open(modelPath, 'r').catch(() => undefined);
  if (handle === undefined) return [];
  try {
    const { size } = await handle.stat();
    if (size > MAX_SCANNED_MODEL_BYTES) return [];
    const bytes = Buffer.alloc(size);
    await handle.read(bytes, 0, size, 0);
    const found = new Set<string>();
    for (let at = bytes.indexOf(LOCATION_ENTRY); at !== -1; at = bytes.indexOf(LOCATION_ENTRY, at + 1)) {
      let cursor = at + LOCATION_ENTRY.length;
      let length = 0;
      for (let shift = 0; cursor < bytes.length && shift < 28; shift += 7) {
        const byte = bytes[cursor++]!;
        length |= (byte & 0x7f) << shift;
        if ((byte & 0x80) === 0) break;
      }
      if (length === 0 || cursor + length > bytes.length) continue;
      const location = bytes.toString('utf8', cursor, cursor + length);
      // Only plain names beside the model; anything else is not ours to judge.
      if (!location.includes('/') && !location.includes('\\') && location !== '..') found.add(location);
    }
    return [...found];
  } finally {
    await handle.close();
  }
}
