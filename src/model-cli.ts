import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CATALOGUE, findCatalogueEntry, type CatalogueEntry } from './providers/onnx-sd/model-store/catalogue.js';
import { ModelDownloadError } from './providers/onnx-sd/model-store/download-errors.js';
import { pullModel } from './providers/onnx-sd/model-store/downloader.js';
import { DEFAULT_HUB_ENDPOINT } from './providers/onnx-sd/model-store/hub-client.js';
import { MANIFEST_FILE, readManifest, ManifestError, type ModelManifest } from './providers/onnx-sd/model-store/manifest.js';
import { checkModelLayout, resolveModelDir } from './providers/onnx-sd/model-store/model-layout.js';
import { formatBytes } from './providers/onnx-sd/model-store/format-bytes.js';
import { createByteProgressReporter, type ProgressStream } from './providers/onnx-sd/model-store/progress-reporter.js';
import { verifyModel } from './providers/onnx-sd/model-store/verify.js';

export interface ModelCliIo {
  readonly stdout: ProgressStream;
  /** Progress and errors go here; a TTY gets a live progress bar. */
  readonly stderr: ProgressStream;
}

/** Seams for tests and embedding; the command line never needs them. */
export interface ModelCliExtras {
  readonly signal?: AbortSignal;
  /** Passed to the downloader: network retries per file (default 3) and the wait between them. */
  readonly retries?: number;
  readonly retryDelayMs?: number;
}

export const MODEL_USAGE = `Usage: npm run model -- <command> [options]
       (or: node bin/aiframe-model.js <command> [options])

Commands:
  list                      the built-in catalogue and the models in <data>/models
  pull <name>               download a catalogue model (resumes an interrupted download)
  verify <name|path>        re-hash a downloaded model against its manifest

Options:
  --data <dir>              data folder; models go to <dir>/models   DATA_DIR     (./data)
  --revision <rev>          pull: branch, tag or commit instead of the catalogue's
  --endpoint <url>          Hugging Face hub or mirror                HF_ENDPOINT  (${DEFAULT_HUB_ENDPOINT})
  -h, --help                show this help

A token for gated repositories is read from HF_TOKEN. Exit status: 0 ok, 1 failed, 2 usage.
`;

/** `aiframe-model`: list, pull and verify local ONNX Stable Diffusion models. Returns the exit code. */
export async function modelCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: ModelCliIo,
  extras: ModelCliExtras = {},
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        data: { type: 'string' },
        revision: { type: 'string' },
        endpoint: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help === true || command === 'help') {
    io.stdout.write(MODEL_USAGE);
    return 0;
  }
  if (command === undefined) return usageError(io, 'missing command');
  const dataDir = resolve(values.data ?? nonEmpty(env.DATA_DIR) ?? './data');
  const modelsDir = join(dataDir, 'models');

  try {
    switch (command) {
      case 'list':
        if (rest.length > 0) return usageError(io, 'list takes no arguments');
        return await listCommand(modelsDir, io);
      case 'pull': {
        if (rest.length !== 1) return usageError(io, 'pull takes one model name');
        const entry = findCatalogueEntry(rest[0]!);
        if (entry === undefined) return unknownModel(io, rest[0]!);
        const endpoint = values.endpoint ?? nonEmpty(env.HF_ENDPOINT);
        const token = nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN);
        return await pullCommand(entry, modelsDir, io, { endpoint, token, revision: values.revision }, extras);
      }
      case 'verify':
        if (rest.length !== 1) return usageError(io, 'verify takes one model name or folder');
        if (values.revision !== undefined) return usageError(io, '--revision applies to pull only');
        return await verifyCommand(rest[0]!, modelsDir, io, extras);
      default:
        return usageError(io, `unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof ModelDownloadError || error instanceof ManifestError) {
      io.stderr.write(`aiframe-model: ${error.message}\n`);
      return 1;
    }
    if (typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).syscall !== undefined) {
      // File-system trouble (disk full, no permission on the data folder): the message says it all.
      io.stderr.write(`aiframe-model: ${(error as Error).message}\n`);
      return 1;
    }
    if (extras.signal?.aborted) {
      io.stderr.write('aiframe-model: interrupted; run the same command again to resume\n');
      return 1;
    }
    throw error;
  }
}

async function listCommand(modelsDir: string, io: ModelCliIo): Promise<number> {
  const rows: string[][] = [['NAME', 'STATUS', 'SIZE', 'STEPS', 'SOURCE']];
  const catalogued = new Set<string>();
  for (const entry of CATALOGUE) {
    catalogued.add(entry.name);
    const dir = join(modelsDir, entry.name);
    const state = await modelState(dir);
    const size = state.manifest !== undefined ? formatBytes(sumSizes(state.manifest)) : `~${formatBytes(entry.approxBytes)}`;
    rows.push([entry.name, state.status, size, String(entry.recommended.steps), `${entry.repo}@${shortRevision(entry.revision)}`]);
  }
  // Folders people placed themselves count too: `providers.onnx.model` accepts any folder name.
  const extra = await readdir(modelsDir, { withFileTypes: true }).catch(() => []);
  for (const dirent of extra.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!dirent.isDirectory() || catalogued.has(dirent.name) || dirent.name.startsWith('.')) continue;
    const state = await modelState(join(modelsDir, dirent.name));
    const size = state.manifest !== undefined ? formatBytes(sumSizes(state.manifest)) : '-';
    rows.push([dirent.name, state.status, size, '-', state.manifest !== undefined ? state.manifest.repo : '(local folder)']);
  }
  io.stdout.write(`Models in ${modelsDir} (use the name as providers.onnx.model):\n`);
  io.stdout.write(table(rows));
  for (const entry of CATALOGUE) {
    io.stdout.write(`  ${entry.name}: ${entry.title}; ${entry.nativeSize.width}x${entry.nativeSize.height}, ${plural(entry.recommended.steps, 'step')}, guidance ${entry.recommended.guidance}, scheduler ${entry.recommended.scheduler}; licence: ${entry.licence}\n`);
  }
  return 0;
}

async function modelState(dir: string): Promise<{ status: string; manifest: ModelManifest | undefined }> {
  if ((await stat(dir).catch(() => undefined)) === undefined) return { status: 'not downloaded', manifest: undefined };
  let manifest: ModelManifest | undefined;
  try {
    manifest = await readManifest(dir);
  } catch {
    return { status: 'broken manifest', manifest: undefined };
  }
  const layout = await checkModelLayout(dir);
  if (layout.ok) return { status: manifest !== undefined ? 'ready' : 'ready (no manifest)', manifest };
  if (manifest === undefined && layout.summary.includes('not finished')) return { status: 'incomplete', manifest };
  return { status: 'problem', manifest };
}

interface PullSettings {
  readonly endpoint: string | undefined;
  readonly token: string | undefined;
  readonly revision: string | undefined;
}

async function pullCommand(entry: CatalogueEntry, modelsDir: string, io: ModelCliIo, settings: PullSettings, extras: ModelCliExtras): Promise<number> {
  const revision = settings.revision ?? entry.revision;
  io.stderr.write(`${entry.name}: fetching ${entry.repo}@${revision} (about ${formatBytes(entry.approxBytes)}) into ${join(modelsDir, entry.name)}\n`);
  const reporter = createByteProgressReporter(io.stderr, entry.name);
  let checking = false;
  let result;
  try {
    result = await pullModel(entry, {
      modelsDir,
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      ...(settings.token === undefined ? {} : { token: settings.token }),
      ...(settings.revision === undefined ? {} : { revision: settings.revision }),
      ...(extras.signal === undefined ? {} : { signal: extras.signal }),
      ...(extras.retries === undefined ? {} : { retries: extras.retries }),
      ...(extras.retryDelayMs === undefined ? {} : { retryDelayMs: extras.retryDelayMs }),
      onProgress: (progress) => {
        if (progress.phase === 'checking' && !checking) {
          checking = true;
          io.stderr.write(`${entry.name}: checking files already on disk\n`);
        }
        if (progress.phase === 'downloading' || progress.phase === 'checking') {
          reporter.update(progress.bytesDone, progress.bytesTotal, progress.file);
        }
      },
    });
  } catch (error) {
    reporter.stop();
    if (error instanceof ModelDownloadError && error.retryable) {
      io.stderr.write(`aiframe-model: ${error.message}\naiframe-model: the partial download was kept; run the same command again to resume\n`);
      return 1;
    }
    throw error;
  }
  reporter.stop();
  const total = sumSizes(result.manifest);
  io.stdout.write(
    `${entry.name}: ready in ${result.dir} (${formatBytes(total)}, ${result.manifest.files.length} files; ` +
      `${formatBytes(result.downloadedBytes)} downloaded now, ${result.skippedFiles} files already present` +
      `${result.resumedFiles > 0 ? `, ${result.resumedFiles} resumed` : ''})\n`,
  );
  io.stdout.write(`use it with providers.onnx.model: ${entry.name} (recommended: ${plural(entry.recommended.steps, 'step')}, guidance ${entry.recommended.guidance})\n`);
  return 0;
}

async function verifyCommand(model: string, modelsDir: string, io: ModelCliIo, extras: ModelCliExtras): Promise<number> {
  const dir = resolveModelDir(modelsDir, model);
  if ((await stat(dir).catch(() => undefined)) === undefined) {
    if (findCatalogueEntry(model) !== undefined) {
      io.stderr.write(`aiframe-model: ${model} is not downloaded (run: npm run model -- pull ${model})\n`);
      return 1;
    }
    return unknownModel(io, model, dir);
  }
  const reporter = createByteProgressReporter(io.stderr, `verify ${model}`);
  const report = await verifyModel(dir, {
    onProgress: (progress) => reporter.update(progress.bytesDone, progress.bytesTotal, progress.file),
    ...(extras.signal === undefined ? {} : { signal: extras.signal }),
  });
  reporter.stop();
  if (report.ok && report.manifest === undefined) {
    io.stdout.write(`${model}: OK (layout checked; no ${MANIFEST_FILE}, so no sizes or hashes to compare: a folder not made by pull)\n`);
    return 0;
  }
  if (report.ok) {
    const total = report.manifest === undefined ? 0 : sumSizes(report.manifest);
    const bySize = report.checkedFiles - report.hashedFiles;
    io.stdout.write(
      `${model}: OK (${report.checkedFiles} files, ${formatBytes(total)}; ${report.hashedFiles} re-hashed${bySize > 0 ? `, ${bySize} checked by size` : ''})\n`,
    );
    return 0;
  }
  io.stdout.write(`${model}: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${dir}\n`);
  for (const problem of report.problems) io.stdout.write(`  ${problem.file} ${problem.problem}\n`);
  if (findCatalogueEntry(model) !== undefined) io.stdout.write(`fix: npm run model -- pull ${model}   (downloads only what is missing or wrong)\n`);
  return 1;
}

function unknownModel(io: ModelCliIo, name: string, dir?: string): number {
  const names = CATALOGUE.map((entry) => entry.name).join(', ');
  io.stderr.write(`aiframe-model: unknown model "${name}"${dir === undefined ? '' : ` (no folder ${dir})`}; catalogue: ${names}\n`);
  return 2;
}

function usageError(io: ModelCliIo, message: string): number {
  io.stderr.write(`aiframe-model: ${message}\n\n${MODEL_USAGE}`);
  return 2;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function sumSizes(manifest: ModelManifest): number {
  return manifest.files.reduce((sum, file) => sum + file.size, 0);
}

function shortRevision(revision: string): string {
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision;
}

function table(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ') + '\n').join('');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
