/**
 * What other users of the machine can read: the data folder and the files the server writes
 * in it are owner-only, the generated admin token never reaches the log file, and files the
 * owner made keep their mode but get a warning naming the chmod to run.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { JobStore } from '../../src/operations/job-store.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { startOperation } from '../support/test-server.js';
import { eventually, startChildServer } from '../yandex-art/child-server.js';

const roots: string[] = [];
async function freshRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-modes-'));
  roots.push(root);
  return root;
}

after(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

const MODES_APPLY = process.platform !== 'win32';

describe('file modes', { skip: MODES_APPLY ? false : 'no permission bits on Windows' }, () => {
  test('a first start: data/ 0700, options.yml, admin-token and stats.json 0600, the token on the console once and never in the log file', async () => {
    const root = await freshRoot();
    const server = await startChildServer(root);
    let code;
    try {
      const data = join(root, 'data');
      assert.equal(await modeOf(data), 0o700, 'data/');
      assert.equal(await modeOf(join(data, 'options.yml')), 0o600, 'options.yml');
      assert.equal(await modeOf(join(data, 'admin-token')), 0o600, 'admin-token');
      // A generation is counted in stats.json.
      const started = await startOperation(server.url, { type: 'auto' });
      assert.equal(started.status, 200);
      await eventually('stats.json', async () => (await stat(join(data, 'stats.json')).catch(() => undefined)) ?? undefined);
      assert.equal(await modeOf(join(data, 'stats.json')), 0o600, 'stats.json');
      const token = (await readFile(join(data, 'admin-token'), 'utf8')).trim();
      assert.equal(server.output().split(token).length - 1, 1, 'shown on the console exactly once');
    } finally {
      code = await server.kill('SIGTERM');
    }
    assert.equal(code, 0);
    const token = (await readFile(join(root, 'data', 'admin-token'), 'utf8')).trim();
    const log = await readFile(join(root, 'log', 'aiframe-server.log'), 'utf8');
    assert.ok(log.includes('listening on'), 'the log file was written');
    assert.equal(log.includes(token), false, 'the token is not in the log file');
    assert.match(log, /admin token generated .*shown once on the console, not in the log; it is kept in .*admin-token/);
  });

  test('the pending-jobs file is owner-only, also when it replaces an older, readable one', async () => {
    const root = await freshRoot();
    const file = join(root, 'jobs.json');
    await writeFile(file, '{"jobs":[]}\n', { mode: 0o644 });
    await chmod(file, 0o644);
    const store = new JobStore({ file, logger: createMemoryLogger() });
    await store.open();
    const job = { operationId: 'op-1', type: 'auto', providerId: 'ydArt', prompt: 'a lighthouse', seed: 1, width: 320, height: 480, createdAt: 0, resume: { operationId: 'remote-1' } };
    await store.save(job);
    assert.equal(await modeOf(file), 0o600);
  });

  test('only the data folder the server makes is owner-only: its missing parents get the usual mode', async () => {
    const root = await freshRoot();
    const dataDir = join(root, 'srv', 'aiframe', 'data');
    await loadConfig({ host: '127.0.0.1', port: 0, dataDir, imagesDir: undefined, logDir: join(root, 'log'), help: false, version: false });
    assert.equal(await modeOf(dataDir), 0o700);
    assert.equal(await modeOf(join(dataDir, 'options.yml')), 0o600);
    const expectedParent = 0o777 & ~process.umask();
    assert.equal(await modeOf(join(root, 'srv')), expectedParent);
    assert.equal(await modeOf(join(root, 'srv', 'aiframe')), expectedParent);
  });

  test('files the owner made keep their mode; the log names the chmod for each that holds a secret', async () => {
    const root = await freshRoot();
    const data = join(root, 'data');
    await mkdir(data);
    await chmod(data, 0o755);
    const options = join(data, 'options.yml');
    const credentials = join(data, 'ydart-options.json');
    await writeFile(options, 'admin_token: owner-written-token-0123456789\nproviders:\n  ydArt: {}\n');
    await writeFile(credentials, '{"folder_id": "b1g-folder", "api_key": "AQVN-owner-key-0123456789"}\n');
    await chmod(options, 0o644);
    await chmod(credentials, 0o644);
    const server = await startChildServer(root);
    assert.equal(await server.kill('SIGTERM'), 0);
    const log = await readFile(join(root, 'log', 'aiframe-server.log'), 'utf8');
    assert.ok(log.includes(`run \`chmod 700 ${data}\``), `the data folder:\n${log}`);
    assert.ok(log.includes(`${options} holds admin_token and other users of this machine can read it (mode 0644): run \`chmod 600 ${options}\``), log);
    assert.ok(log.includes(`${credentials} holds the YandexART credentials`) && log.includes(`run \`chmod 600 ${credentials}\``), log);
    assert.equal(log.includes('owner-written-token-0123456789') || log.includes('AQVN-owner-key-0123456789'), false, 'no secret in the warnings');
    assert.equal(await modeOf(data), 0o755, 'never chmod-ed behind the owner');
    assert.equal(await modeOf(options), 0o644);
    assert.equal(await modeOf(credentials), 0o644);
  });

  test('inside an owner-only data folder, a readable options.yml is private already: no warning', async () => {
    const root = await freshRoot();
    const data = join(root, 'data');
    await mkdir(data);
    await chmod(data, 0o700);
    const options = join(data, 'options.yml');
    await writeFile(options, 'admin_token: owner-written-token-0123456789\n');
    await chmod(options, 0o644);
    const server = await startChildServer(root);
    assert.equal(await server.kill('SIGTERM'), 0);
    const log = await readFile(join(root, 'log', 'aiframe-server.log'), 'utf8');
    assert.ok(log.includes('listening on'));
    assert.equal(/chmod/.test(log), false, log);
  });
});
