// Static checks of the Docker packaging: there is no Docker engine in CI, so these read the
// files and hold them against the server's own start-up options. scripts/docker-build-steps.sh
// runs the image's steps for real; here only its cheap --check-only part runs.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseStartupOptions } from '../../src/config/startup-options.js';

// dist/test/docker/ -> the repository
const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'scripts', 'docker-build-steps.sh');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly name: string;
  readonly instructions: Instruction[];
}

/** The Dockerfile's stages: comments dropped, continuation lines joined, as Docker reads it. */
function readStages(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*#/.test(raw) || (pending === '' && raw.trim() === '')) continue;
    const continued = /\\\s*$/.test(raw);
    pending += ` ${continued ? raw.replace(/\\\s*$/, '') : raw}`;
    if (continued) continue;
    const line = pending.trim().replace(/\s+/g, ' ');
    pending = '';
    const space = line.indexOf(' ');
    const keyword = line.slice(0, space).toUpperCase();
    const args = line.slice(space + 1);
    if (keyword === 'FROM') {
      stages.push({ name: args.split(' AS ')[1] ?? String(stages.length), instructions: [] });
    }
    const current = stages.at(-1);
    assert.ok(current, `${keyword} before the first FROM`);
    current.instructions.push({ keyword, args });
  }
  return stages;
}

function all(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);
}

function one(stage: Stage, keyword: string): string {
  const found = all(stage, keyword);
  assert.equal(found.length, 1, `exactly one ${keyword} in stage ${stage.name}`);
  return found[0] as string;
}

function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of all(stage, 'ENV')) {
    for (const word of args.split(' ')) {
      const [key, ...value] = word.split('=');
      env[key as string] = value.join('=');
    }
  }
  return env;
}

const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const stages = readStages(dockerfile);
const runtime = stages.at(-1) as Stage;

describe('Dockerfile', () => {
  test('builds on glibc slim Node 20 in two stages, the last one named runtime', () => {
    assert.deepEqual(
      stages.map((stage) => [one(stage, 'FROM'), stage.name]),
      [
        ['node:20-bookworm-slim AS build', 'build'],
        ['node:20-bookworm-slim AS runtime', 'runtime'],
      ],
    );
  });

  test('the runtime ENV starts the server on the exposed port with the declared volumes', () => {
    const env = envOf(runtime);
    const startup = parseStartupOptions([], env);
    const volumes = JSON.parse(one(runtime, 'VOLUME')) as string[];
    assert.deepEqual([startup.dataDir, startup.imagesDir, startup.logDir], volumes);
    assert.equal(one(runtime, 'EXPOSE'), String(startup.port));
    assert.equal(startup.host, '0.0.0.0');
    assert.equal(env.TZ, 'UTC');
    assert.equal(env.NODE_ENV, 'production');
  });

  test('runs as a non-root user, stops on SIGTERM and starts the compiled entry point', () => {
    assert.notEqual(one(runtime, 'USER'), 'root');
    assert.equal(one(runtime, 'STOPSIGNAL'), 'SIGTERM');
    const command = JSON.parse(one(runtime, 'CMD')) as string[];
    assert.deepEqual(command, ['node', 'dist/src/main.js']);
    // tsconfig.build.json compiles src/ to dist/src/: the entry point's source must exist.
    assert.ok(existsSync(join(root, 'src', 'main.ts')));
    const copied = all(runtime, 'COPY').map((args) => args.split(' ')[1]);
    assert.ok(copied.includes('/app/dist') && copied.includes('/app/node_modules') && copied.includes('/app/package.json'));
  });

  test('the health check asks /healthz with node on the configured port (no curl in slim images)', () => {
    const healthcheck = one(runtime, 'HEALTHCHECK');
    const exec = /CMD (\[.*\])$/.exec(healthcheck);
    assert.ok(exec, 'HEALTHCHECK uses the exec form');
    const [program, flag, code] = JSON.parse(exec[1] as string) as string[];
    assert.equal(program, 'node');
    assert.equal(flag, '-e');
    assert.match(code ?? '', /process\.env\.PORT\|\|8099/);
    assert.match(code ?? '', /\/healthz'/);
  });

  test('skips the CUDA download of onnxruntime-node during npm ci', () => {
    assert.equal(envOf(stages[0] as Stage).ONNXRUNTIME_NODE_INSTALL, 'skip');
  });
});

describe('scripts/docker-build-steps.sh --check-only', () => {
  test('agrees with the Dockerfile', () => {
    const run = spawnSync('bash', [script, '--check-only'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });

  test('fails and names the line when a Dockerfile step changes without the script', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aiframe-'));
    try {
      const changed = join(dir, 'Dockerfile');
      await writeFile(changed, dockerfile.replace('RUN npm run build', 'RUN npm run build && npm test'));
      const run = spawnSync('bash', [script, '--check-only'], { encoding: 'utf8', env: { ...process.env, DOCKERFILE: changed } });
      assert.equal(run.status, 1);
      assert.match(run.stderr, /only in Dockerfile: +RUN npm run build && npm test/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, Record<string, unknown>>;
  };
  const service = compose.services['aiframe-server'];

  test('builds this folder, restarts, runs under an init and publishes the port', () => {
    assert.ok(service);
    assert.equal(service.build, '.');
    assert.equal(service.restart, 'unless-stopped');
    assert.equal(service.init, true);
    assert.deepEqual(service.ports, [`${one(runtime, 'EXPOSE')}:${one(runtime, 'EXPOSE')}`]);
    assert.equal((service.environment as Record<string, string>).TZ, '${TZ:-UTC}');
  });

  test('mounts every volume the image declares', () => {
    const mounted = (service?.volumes as string[]).map((volume) => volume.split(':')[1]);
    for (const volume of JSON.parse(one(runtime, 'VOLUME')) as string[]) assert.ok(mounted.includes(volume), `${volume} is mounted`);
  });

  test('documents the read-only photo folder with the lim provider key', () => {
    const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    assert.match(text, /# - \/path\/to\/photos:\/photos:ro/);
    assert.match(text, /local_image_folder: \/photos/);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const excludes = (path: string): boolean =>
    patterns.some((pattern) => pattern === path || (pattern.startsWith('*.') && path.endsWith(pattern.slice(1))));

  test('keeps built, installed and private folders out of the build context', () => {
    for (const path of ['.git', 'node_modules', 'dist', 'data', 'images', 'log', '.env']) {
      assert.ok(excludes(path), `${path} is excluded`);
    }
  });

  test('keeps everything the build stage copies', () => {
    const sources = all(stages[0] as Stage, 'COPY').flatMap((args) => args.split(' ').slice(0, -1));
    assert.ok(sources.length > 0);
    for (const source of sources) assert.ok(!excludes(source), `${source} is not excluded`);
  });
});
