/**
 * Files we own stay readable whatever moment the process dies: the real server in a child
 * process, busy adding prompts and pictures, killed with SIGKILL at random moments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function waitUntilListening(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    try {
      await (await fetch(`http://127.0.0.1:${port}/operation/status/probe`)).arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('server did not start');
}

test('SIGKILL during prompt adds and generations leaves every owned file readable', async () => {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-kill-'));
  try {
    await mkdir(join(root, 'data'), { recursive: true });
    await writeFile(join(root, 'data', 'options.yml'), 'prompts_amount: 5\nimage_amount_min: 3\nimage_amount_max: 6\nlog_level: ERROR\n');
    for (let round = 0; round < 4; round += 1) {
      const port = await freePort();
      const child = fork(main, ['--port', String(port), '--host', '127.0.0.1', '--data', join(root, 'data'), '--images', join(root, 'images'), '--log', join(root, 'log')], { stdio: 'ignore' });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await waitUntilListening(port);
      const requests = Array.from({ length: 40 }, (_, i) =>
        fetch(`http://127.0.0.1:${port}/${i % 2 ? 'prompt/add' : 'operation/start'}`, {
          method: 'POST',
          body: JSON.stringify(i % 2 ? { prompt: `round ${round} prompt ${i}` } : { type: 'ydart' }),
        }).catch(() => undefined),
      );
      await new Promise((resolve) => setTimeout(resolve, 20 + round * 40));
      child.kill('SIGKILL');
      await Promise.all(requests);
      await exited;

      const prompts = JSON.parse(await readFile(join(root, 'data', 'prompts.json'), 'utf8')) as { prompts: unknown[] };
      assert.ok(Array.isArray(prompts.prompts) && prompts.prompts.length >= 1 && prompts.prompts.length <= 5);
      for (const name of await readdir(join(root, 'images', 'original')).catch(() => [] as string[])) {
        if (name.endsWith('.json')) JSON.parse(await readFile(join(root, 'images', 'original', name), 'utf8'));
      }
    }
    // And the next start indexes whatever the kills left, temporary files included.
    const port = await freePort();
    const child = fork(main, ['--port', String(port), '--host', '127.0.0.1', '--data', join(root, 'data'), '--images', join(root, 'images'), '--log', join(root, 'log')], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitUntilListening(port);
    const answer = await fetch(`http://127.0.0.1:${port}/operation/start`, { method: 'POST', body: '{"type":"old"}' });
    assert.equal(answer.status, 200);
    child.kill('SIGTERM');
    await exited;
    const leftovers = (await readdir(join(root, 'images', 'original'))).filter((name) => name.startsWith('.tmp-'));
    assert.deepEqual(leftovers, [], 'stale temporary files are cleaned at start-up');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
