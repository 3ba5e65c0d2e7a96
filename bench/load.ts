/**
 * Load benchmark: 100 simulated frames doing start + result on stored pictures for a fixed
 * time against the real server (a child process, as in production), with 2,000 pictures in
 * the library; then the same load against a bare Node HTTP server sending the same bytes.
 * Prints requests per second, p50/p99 latency and the server's peak RSS.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { pictureName, randomSuffix } from '../src/library/picture-name.js';
import { profileKey, type FrameProfile } from '../src/render/frame-profile.js';
import { DEFAULT_JPEG_QUALITY, renderForFrame } from '../src/render/render-for-frame.js';
import { percentile, runFrames, type LoadResult } from './load-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const PICTURES = 2000;
const DISTINCT = 20;

export interface LoadFigures {
  readonly server: Summary;
  readonly bare: Summary;
}
interface Summary {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly peakRssMb: number;
}

export async function runLoadBench(log = console.log, options = { frames: 100, seconds: 10 }): Promise<LoadFigures> {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-bench-'));
  try {
    const profile: FrameProfile = { width: 320, height: 480, fitMode: 'auto', fitThreshold: 0.03, quality: DEFAULT_JPEG_QUALITY };
    log(`preparing a library of ${PICTURES} pictures with frame renders...`);
    const sampleRender = await prepareLibrary(root, profile);
    await writeFile(join(root, 'data', 'options.yml'), 'log_level: WARNING\nimage_generate_threshold: 525600\nimage_amount_min: 2000\nimage_amount_max: 3000\n');

    const port = await freePort();
    const server = fork(join(here, '..', 'src', 'main.js'), ['--port', String(port), '--host', '127.0.0.1', '--data', join(root, 'data'), '--images', join(root, 'images'), '--log', join(root, 'log')], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await waitForPort(port);
    await runFrames(port, 10, 1); // warm-up: JIT, file cache
    const ours = await runFrames(port, options.frames, options.seconds);
    const ourRss = peakRssMb(server);
    server.kill('SIGTERM');

    const barePort = await freePort();
    const bare = fork(join(here, 'bare-server.js'), [String(barePort), sampleRender], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise((resolve) => bare.once('message', resolve));
    await runFrames(barePort, 10, 1);
    const baseline = await runFrames(barePort, options.frames, options.seconds);
    const bareRss = peakRssMb(bare);
    bare.kill('SIGTERM');

    const figures = { server: summarise(ours, ourRss), bare: summarise(baseline, bareRss) };
    log(`\nload: ${options.frames} frames, start + result on stored pictures, ${options.seconds} s each, ${PICTURES} pictures`);
    log('                     req/s    p50 ms   p99 ms   errors   peak RSS MB');
    for (const [name, summary] of [['aiframe-server', figures.server], ['bare node:http', figures.bare]] as const) {
      log(`  ${name.padEnd(16)} ${summary.rps.toFixed(0).padStart(8)} ${summary.p50.toFixed(1).padStart(8)} ${summary.p99.toFixed(1).padStart(8)} ${String(summary.errors).padStart(8)} ${summary.peakRssMb.toFixed(0).padStart(13)}`);
    }
    log(`  targets: p99 under 50 ms (${figures.server.p99 < 50 ? 'met' : 'MISSED'}), RSS under 200 MB (${figures.server.peakRssMb < 200 ? 'met' : 'MISSED'}); ` +
      `throughput ${(100 * figures.server.rps / figures.bare.rps).toFixed(0)}% of the bare server`);
    return figures;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function summarise(result: LoadResult, peakRssMb: number): Summary {
  return {
    rps: result.requests / result.seconds,
    p50: percentile(result.latenciesMs, 50),
    p99: percentile(result.latenciesMs, 99),
    errors: result.errors,
    peakRssMb,
  };
}

/** Originals, sidecars and ready renders laid out as the server keeps them. */
export async function prepareLibrary(root: string, profile: FrameProfile): Promise<string> {
  const original = join(root, 'images', 'original');
  const frameDir = join(root, 'images', 'frame', profileKey(profile));
  await mkdir(original, { recursive: true });
  await mkdir(frameDir, { recursive: true });
  await mkdir(join(root, 'data'), { recursive: true });
  const bases: { original: Buffer; render: Buffer }[] = [];
  for (let i = 0; i < DISTINCT; i += 1) {
    const noise = Buffer.alloc(64 * 96 * 3);
    for (let p = 0; p < noise.length; p += 1) noise[p] = (p * (i + 7) + (p >> 5) * 13) & 0xff;
    const bytes = await sharp(noise, { raw: { width: 64, height: 96, channels: 3 } }).resize(640, 960).blur(3).jpeg({ quality: 90 }).toBuffer();
    bases.push({ original: bytes, render: await renderForFrame(bytes, profile) });
  }
  const start = Date.now() - PICTURES * 60_000;
  for (let i = 0; i < PICTURES; i += 1) {
    const at = new Date(start + i * 60_000);
    const name = pictureName(at, 'bench', randomSuffix());
    const base = bases[i % DISTINCT]!;
    const meta = { name, file: `${name}.jpg`, format: 'jpeg', createdAt: at.toISOString(), provider: 'bench', prompt: `bench ${i}`, width: 640, height: 960 };
    await writeFile(join(original, `${name}.jpg`), base.original);
    await writeFile(join(original, `${name}.json`), JSON.stringify(meta));
    await writeFile(join(frameDir, `${name}.jpg`), base.render);
  }
  const sample = join(root, 'sample-render.jpg');
  await writeFile(sample, bases[0]!.render);
  return sample;
}

/** Peak resident memory of a child, from the kernel's high-water mark (Linux). */
function peakRssMb(child: ChildProcess): number {
  try {
    // Read synchronously, while the process is still alive.
    const status = readFileSync(`/proc/${child.pid ?? 0}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/operation/result/warmup`);
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`server did not listen on ${port}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runLoadBench();
}
