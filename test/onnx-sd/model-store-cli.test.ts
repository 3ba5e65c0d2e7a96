import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { modelCli } from '../../src/model-cli.js';
import { findCatalogueEntry } from '../../src/providers/onnx-sd/model-store/catalogue.js';
import { REQUIRED_MODEL_FILES } from '../../src/providers/onnx-sd/model-store/model-layout.js';
import { fakeSdFiles, startFakeHub, type FakeHub, type FakeHubFaults } from './model-store-fake-hub.js';

const turbo = findCatalogueEntry('sd-turbo')!;

function capture(isTTY = false): { write(text: string): boolean; readonly isTTY: boolean; text(): string } {
  const chunks: string[] = [];
  return {
    isTTY,
    write(text: string) {
      chunks.push(text);
      return true;
    },
    text: () => chunks.join(''),
  };
}

describe('model command', () => {
  let root: string;
  let hub: FakeHub | undefined;

  async function startHub(faults: FakeHubFaults = {}): Promise<FakeHub> {
    const files = fakeSdFiles().filter((f) => f.path !== 'unet/diffusion_pytorch_model.safetensors');
    hub = await startFakeHub([{ repo: turbo.repo, revision: turbo.revision, commit: turbo.revision, files }], faults);
    return hub;
  }

  async function run(argv: string[], env: Record<string, string | undefined> = {}, retries?: number) {
    const stdout = capture();
    const stderr = capture();
    const code = await modelCli(argv, { DATA_DIR: root, ...env }, { stdout, stderr }, retries === undefined ? {} : { retries, retryDelayMs: 1 });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
  });
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    await rm(root, { recursive: true, force: true });
  });

  test('--help prints the usage', async () => {
    const result = await run(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /pull <name>/);
    assert.match(result.stdout, /HF_ENDPOINT/);
  });

  test('usage errors exit 2', async () => {
    assert.equal((await run([])).code, 2);
    assert.equal((await run(['frobnicate'])).code, 2);
    assert.equal((await run(['pull'])).code, 2);
    assert.equal((await run(['list', '--bogus'])).code, 2);
  });

  test('list shows the catalogue, nothing downloaded yet, and local folders', async () => {
    const own = path.join(root, 'models', 'my-export');
    for (const file of REQUIRED_MODEL_FILES) {
      await mkdir(path.dirname(path.join(own, file)), { recursive: true });
      await writeFile(path.join(own, file), 'x');
    }
    const result = await run(['list']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^NAME\s+STATUS\s+SIZE\s+STEPS\s+SOURCE$/m);
    assert.match(result.stdout, /^sd15\s+not downloaded\s+~4\.1 GB\s+25\s+onnx-community\/stable-diffusion-v1-5-ONNX@main$/m);
    assert.match(result.stdout, /^sd-turbo\s+not downloaded\s+~2\.5 GB\s+1\s+schmuell\/sd-turbo-ort-web@ace89b7$/m);
    assert.match(result.stdout, /^lcm-dreamshaper-v7\s+not downloaded/m);
    assert.match(result.stdout, /^my-export\s+ready \(no manifest\)\s+-\s+-\s+\(local folder\)$/m);
    assert.ok(result.stdout.includes(path.join(root, 'models')));

    // The same folder verifies by its layout: there is no manifest to hash against.
    const verified = await run(['verify', 'my-export']);
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /^my-export: OK \(layout checked; no aiframe-model\.json/m);
  });

  test('pull, list and verify a catalogue model; plain progress lines off a terminal', async () => {
    const server = await startHub({ token: 'hf_cli_token' });
    const env = { HF_ENDPOINT: server.endpoint, HF_TOKEN: 'hf_cli_token' };
    const pulled = await run(['pull', 'sd-turbo'], env);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /^sd-turbo: ready in .*sd-turbo \(/m);
    assert.match(pulled.stdout, /providers\.onnx\.model: sd-turbo/);
    const percents = [...pulled.stderr.matchAll(/^sd-turbo: (\d+)% \(/gm)].map((m) => Number(m[1]));
    assert.equal(percents.at(-1), 100);
    assert.deepEqual(percents, [...new Set(percents)].sort((a, b) => a - b), 'one line per 10 %, in order');
    assert.ok(percents.every((p) => p % 10 === 0));
    assert.ok(!(pulled.stdout + pulled.stderr).includes('hf_cli_token'));

    const listed = await run(['list']);
    assert.match(listed.stdout, /^sd-turbo\s+ready\s+\d/m);

    const verified = await run(['verify', 'sd-turbo']);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^sd-turbo: OK \(9 files, \d+ kB; 9 re-hashed\)$/m);

    // A path works as well as a name.
    assert.equal((await run(['verify', path.join(root, 'models', 'sd-turbo')])).code, 0);

    const file = path.join(root, 'models', 'sd-turbo', 'text_encoder', 'model.onnx');
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from('corrupt'), 0, 7, 100);
    await handle.close();
    const broken = await run(['verify', 'sd-turbo']);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /^ {2}text_encoder\/model\.onnx sha256 is [0-9a-f]{64}, expected [0-9a-f]{64}$/m);
    assert.match(broken.stdout, /npm run model -- pull sd-turbo/);

    // Pulling again repairs it, fetching only that file.
    const before = server.requests.length;
    const repaired = await run(['pull', 'sd-turbo'], env);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.deepEqual(
      server.requests.slice(before).filter((r) => r.host === 'hub' && r.url.includes('/resolve/')).map((r) => r.url.split('/').slice(-2).join('/')),
      ['text_encoder/model.onnx'],
    );
    assert.equal((await run(['verify', 'sd-turbo'])).code, 0);
  });

  test('--data overrides DATA_DIR', async () => {
    const server = await startHub();
    const other = path.join(root, 'elsewhere');
    const result = await run(['pull', 'sd-turbo', '--data', other], { HF_ENDPOINT: server.endpoint, DATA_DIR: path.join(root, 'ignored') });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`ready in ${path.join(other, 'models', 'sd-turbo').replace(/[/.]/g, '\\$&')}`));
  });

  test('an interrupted pull keeps its partial file and the next run resumes it', async () => {
    const server = await startHub({ dropAfter: new Map([['unet/weights.pb', 100_000]]) });
    const failed = await run(['pull', 'sd-turbo'], { HF_ENDPOINT: server.endpoint }, 0);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /unet\/weights\.pb: connection (lost|closed) after/);
    assert.match(failed.stderr, /run the same command again to resume/);
    assert.match((await run(['list'])).stdout, /^sd-turbo\s+incomplete/m);
    const resumed = await run(['pull', 'sd-turbo'], { HF_ENDPOINT: server.endpoint }, 0);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /1 resumed/);
    assert.ok(server.requests.some((r) => r.host === 'cdn' && r.headers.range !== undefined));
  });

  test('unknown names exit 2 and list the catalogue', async () => {
    const pull = await run(['pull', 'sdxl-mega']);
    assert.equal(pull.code, 2);
    assert.match(pull.stderr, /unknown model "sdxl-mega".*sd15, lcm-dreamshaper-v7, sd-turbo/);
    const verify = await run(['verify', 'sdxl-mega']);
    assert.equal(verify.code, 2);
    const notPulled = await run(['verify', 'sd15']);
    assert.equal(notPulled.code, 1);
    assert.match(notPulled.stderr, /sd15 is not downloaded \(run: npm run model -- pull sd15\)/);
  });

  test('a hub failure exits 1 with the reason', async () => {
    const server = await startHub({ token: 'needed' });
    const result = await run(['pull', 'sd-turbo'], { HF_ENDPOINT: server.endpoint });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /HTTP 401 .*HF_TOKEN/);
  });

  test('the compiled entry point runs', async () => {
    const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/model-main.js');
    const { stdout } = await promisify(execFile)(process.execPath, [entry, '--help']);
    assert.match(stdout, /^Usage: npm run model/);
    const failed = await promisify(execFile)(process.execPath, [entry, 'pull', 'nope'], { env: { ...process.env, DATA_DIR: root } }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal((failed as { code: number }).code, 2);
  });
});
