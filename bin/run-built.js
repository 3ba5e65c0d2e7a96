// Shared by the bin/ commands: runs a compiled entry, compiling the TypeScript first when
// dist/ is missing or older than src/ (a fresh clone after `npm ci`). Installed packages
// ship dist/ and never compile.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function newestMtime(dir) {
  let newest = 0;
  for (const entryName of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entryName.name);
    const time = entryName.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (time > newest) newest = time;
  }
  return newest;
}

/**
 * @param {string} command the command's name, for messages (`aiframe-server`)
 * @param {string} entryPath the compiled entry, relative to dist/src (`main.js`)
 */
export async function runBuilt(command, entryPath) {
  const entry = join(root, 'dist', 'src', entryPath);
  const sources = join(root, 'src');
  const stale = !existsSync(entry) || (existsSync(sources) && newestMtime(sources) > statSync(entry).mtimeMs);
  if (stale) {
    let tsc;
    try {
      tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    } catch {
      process.stderr.write(`${command}: dist/ is missing or stale and TypeScript is not installed; run "npm ci" first\n`);
      process.exit(1);
    }
    process.stderr.write(`${command}: building (first start or changed sources)...\n`);
    const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
  await import(entry);
}
