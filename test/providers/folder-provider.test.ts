import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FolderProvider } from '../../src/providers/folder/folder-provider.js';
import { RecentPicker } from '../../src/providers/folder/recent-picker.js';
import { scanPictures } from '../../src/providers/folder/scan-pictures.js';
import { ProviderError, type GenerateRequest } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { mulberry32 } from '../../src/providers/offline/prng.js';

function request(signal = new AbortController().signal): GenerateRequest {
  return {
    prompt: '',
    seed: 1,
    width: 320,
    height: 480,
    signal,
    resume: { load: () => undefined, save: async () => undefined },
  };
}

const seededRandom = mulberry32;

async function put(root: string, relative: string, content = 'x'): Promise<string> {
  const file = path.join(root, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}

async function pickPath(provider: FolderProvider): Promise<string> {
  const result = await provider.generate(request());
  assert.equal(result.kind, 'file');
  return result.path;
}

/** Every file under a folder with its size, time and content hash. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    const info = await stat(file);
    const hash = info.isFile() ? createHash('sha256').update(await readFile(file)).digest('hex') : 'dir';
    out.set(path.relative(root, file), `${info.size}:${info.mtimeMs}:${hash}`);
  }
  return out;
}

describe('FolderProvider', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('describes itself', () => {
    const provider = new FolderProvider({ folder: root, logger: createMemoryLogger() });
    assert.equal(provider.id, 'lim');
    assert.equal(new FolderProvider({ id: 'photos', folder: root, logger: createMemoryLogger() }).id, 'photos');
    assert.equal(provider.displayName, 'Local photo folder');
    assert.deepEqual(provider.capabilities, { acceptsPrompt: false, acceptsNegative: false, paid: false, generates: false });
  });

  test('finds pictures by extension in any case, in subfolders, and nothing else', async () => {
    const wanted = [
      'a.jpg', 'B.JPG', 'c.Jpeg', 'd.jpeg', 'e.png', 'f.PNG', 'g.webp', 'h.WebP',
      'album/i.jpg', 'album/2024/summer/j.JPG',
    ];
    for (const name of wanted) await put(root, name);
    for (const name of ['notes.txt', 'anim.gif', 'raw.cr2', 'jpg', 'photo.jpg.txt', '.hidden.jpg', '.thumbs/k.jpg', 'album/.cache/l.png']) {
      await put(root, name);
    }
    const { pictures } = await scanPictures(root);
    assert.deepEqual(pictures, wanted.map((name) => path.join(root, name)).sort());

    const provider = new FolderProvider({ folder: root, logger: createMemoryLogger(), random: seededRandom(3) });
    await provider.start();
    assert.deepEqual(provider.readiness(), { ready: true });
    assert.equal(provider.count, wanted.length);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(await pickPath(provider));
    assert.deepEqual([...seen].sort(), pictures);
  });

  test('follows symbolic links without looping, and stops at the depth limit', async () => {
    await put(root, 'top.jpg');
    await symlink(root, path.join(root, 'loop'));
    await symlink(path.join(root, 'top.jpg'), path.join(root, 'linked.jpg'));
    await symlink(path.join(root, 'missing.jpg'), path.join(root, 'dangling.jpg'));
    const eight = Array.from({ length: 8 }, (_, i) => `d${i + 1}`).join('/');
    await put(root, `${eight}/deep.jpg`);
    await put(root, `${eight}/d9/too-deep.jpg`);
    const { pictures } = await scanPictures(root);
    assert.deepEqual(pictures.map((file) => path.relative(root, file)).sort(), [`${eight}/deep.jpg`, 'linked.jpg', 'top.jpg'].sort());
  });

  test('is not ready before the first scan', () => {
    const provider = new FolderProvider({ folder: root, logger: createMemoryLogger() });
    assert.equal(provider.readiness().ready, false);
  });

  test('explains a missing folder, a file in its place, and an empty folder', async () => {
    const missing = new FolderProvider({ folder: path.join(root, 'nope'), logger: createMemoryLogger() });
    await missing.start();
    assert.deepEqual(missing.readiness(), { ready: false, reason: `folder ${path.join(root, 'nope')} does not exist` });

    const file = await put(root, 'file.jpg');
    const notFolder = new FolderProvider({ folder: file, logger: createMemoryLogger() });
    await notFolder.start();
    assert.deepEqual(notFolder.readiness(), { ready: false, reason: `${file} is not a folder` });

    const emptyDir = path.join(root, 'empty');
    await put(root, 'empty/readme.txt');
    const empty = new FolderProvider({ folder: emptyDir, logger: createMemoryLogger() });
    await empty.start();
    assert.deepEqual(empty.readiness(), {
      ready: false,
      reason: `folder ${emptyDir} holds no JPEG, PNG or WebP pictures`,
    });
    await assert.rejects(empty.generate(request()), (error) => error instanceof ProviderError && !error.retryable);
  });

  test('explains an unreadable folder', async (t) => {
    const locked = path.join(root, 'locked');
    await put(root, 'locked/a.jpg');
    await chmod(locked, 0o000);
    const answer = await readinessAsUnprivilegedUser(locked).finally(() => chmod(locked, 0o755));
    if ('skipped' in answer) {
      // The runner does not call afterEach for a skipped test: clean up here.
      await rm(root, { recursive: true, force: true });
      t.diagnostic(answer.skipped);
      t.skip(answer.skipped);
      return;
    }
    assert.equal(answer.reason, `folder ${locked} cannot be read (permission denied)`);
  });

  test('avoids showing the last few pictures again', async () => {
    for (const name of ['1.jpg', '2.jpg', '3.jpg', '4.jpg', '5.jpg', '6.jpg', '7.jpg']) await put(root, name);
    const provider = new FolderProvider({ folder: root, logger: createMemoryLogger(), random: seededRandom(11) });
    await provider.start();
    const picks: string[] = [];
    for (let i = 0; i < 60; i++) picks.push(await pickPath(provider));
    for (let i = 5; i < picks.length; i++) {
      assert.equal(new Set(picks.slice(i - 5, i + 1)).size, 6, `picks ${i - 5}..${i} should all differ`);
    }
  });

  test('two pictures alternate, one picture repeats', () => {
    const picker = new RecentPicker(() => 0);
    assert.deepEqual([1, 2, 3, 4].map(() => picker.pick(['a', 'b'])), ['a', 'b', 'a', 'b']);
    const single = new RecentPicker(seededRandom(1));
    assert.deepEqual([1, 2, 3].map(() => single.pick(['only'])), ['only', 'only', 'only']);
    assert.equal(single.pick([]), undefined);
  });

  test('drops a vanished picture and picks another; rescans when all are gone', async () => {
    const files = await Promise.all(['a.jpg', 'b.jpg', 'c.jpg'].map((name) => put(root, name)));
    const logger = createMemoryLogger();
    const provider = new FolderProvider({ folder: root, logger, random: seededRandom(5) });
    await provider.start();
    await unlink(files[0] as string);
    await unlink(files[1] as string);
    for (let i = 0; i < 5; i++) assert.equal(await pickPath(provider), files[2]);
    assert.ok(logger.records.some((record) => record.message === 'folder picture vanished'));

    await unlink(files[2] as string);
    const fresh = await put(root, 'new/d.png');
    assert.equal(await pickPath(provider), fresh, 'an emptied list triggers one rescan');

    await unlink(fresh);
    await assert.rejects(provider.generate(request()), ProviderError);
    assert.equal(provider.readiness().ready, false);
  });

  test('refresh picks up new pictures and forgets removed ones', async () => {
    const first = await put(root, 'first.jpg');
    const provider = new FolderProvider({ folder: root, logger: createMemoryLogger(), random: seededRandom(9) });
    await provider.start();
    assert.equal(provider.count, 1);
    const second = await put(root, 'later/second.webp');
    await unlink(first);
    await Promise.all([provider.refresh(), provider.refresh()]);
    assert.equal(provider.count, 1);
    assert.equal(await pickPath(provider), second);
  });

  test('hands back paths into the folder and never changes the folder', async () => {
    for (const name of ['a.jpg', 'b.png', 'sub/c.webp', 'notes.txt']) await put(root, name, `content of ${name}`);
    const before = await snapshot(root);
    const provider = new FolderProvider({ folder: root, logger: createMemoryLogger() });
    await provider.start();
    for (let i = 0; i < 10; i++) {
      const result = await provider.generate(request());
      assert.equal(result.kind, 'file');
      assert.ok(result.path.startsWith(root + path.sep));
      assert.equal(result.details?.['folderPath'], path.relative(root, result.path));
    }
    await provider.refresh();
    assert.deepEqual(await snapshot(root), before);
  });

  test('rejects with the signal reason when aborted', async () => {
    await put(root, 'a.jpg');
    const provider = new FolderProvider({ folder: root, logger: createMemoryLogger() });
    await provider.start();
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    await assert.rejects(provider.generate(request(controller.signal)), (error) => error === reason);
  });
});

/**
 * The folder's readiness as a user the permission bits apply to. Root reads everything, so
 * when the tests run as root (CI does) the check runs in a child process as `nobody`. That
 * user may not reach this checkout (a `mktemp -d` folder is 0700), so the compiled sources
 * it needs are copied to a folder of their own that it can read. When it still cannot reach
 * them or the folder (a private temporary folder, a node binary it may not run), the answer
 * says why, and the test is skipped with that reason.
 */
async function readinessAsUnprivilegedUser(folder: string): Promise<{ reason: string } | { skipped: string }> {
  const asRoot = process.getuid?.() === 0;
  const sources = fileURLToPath(new URL('../../src/', import.meta.url));
  const copy = asRoot ? await readableCopyOf(sources) : undefined;
  try {
    const base = copy ?? sources;
    const providerModule = path.join(base, 'providers/folder/folder-provider.js');
    const loggerModule = path.join(base, 'util/logger.js');
    const asNobody = asRoot ? { uid: 65534, gid: 65534 } : {};
    // The temporary root is private to its owner; let the unprivileged user reach the folder inside.
    if (asRoot) await chmod(path.dirname(folder), 0o755);
    const probe = `
      const { accessSync, constants } = await import('node:fs');
      for (const [file, mode] of [[${JSON.stringify(providerModule)}, constants.R_OK], [${JSON.stringify(path.dirname(folder))}, constants.X_OK]]) {
        try { accessSync(file, mode); } catch { process.stdout.write(file); process.exit(0); }
      }`;
    const unreachable = await runNode(probe, asNobody).catch((error: Error) => `(the child did not run: ${error.message})`);
    if (unreachable !== '') return { skipped: `skipped: the user nobody cannot reach ${unreachable}; run the tests from a folder others may read to check this case` };
    const script = `
      const { FolderProvider } = await import(${JSON.stringify(providerModule)});
      const { createMemoryLogger } = await import(${JSON.stringify(loggerModule)});
      const provider = new FolderProvider({ folder: ${JSON.stringify(folder)}, logger: createMemoryLogger() });
      await provider.start();
      process.stdout.write(JSON.stringify(provider.readiness()));`;
    const readiness = JSON.parse(await runNode(script, asNobody)) as { ready: boolean; reason?: string };
    return { reason: readiness.reason ?? 'ready' };
  } finally {
    if (copy !== undefined) await rm(path.dirname(copy), { recursive: true, force: true });
  }
}

/** Runs an ES module script in a child node process; resolves with what it wrote to stdout. */
function runNode(script: string, as: { uid?: number; gid?: number }): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { ...as, cwd: '/' }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });
}

/**
 * The compiled `src` tree copied to a new temporary folder that every user may read
 * (folders 0755, files 0644, whatever the umask or the checkout's own modes were).
 * Returns the copy of `src`; its parent is the folder to delete.
 */
async function readableCopyOf(sources: string): Promise<string> {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'aiframe-for-nobody-'));
  await chmod(parent, 0o755);
  const target = path.join(parent, 'src');
  await cp(sources, target, { recursive: true, filter: (from) => !from.endsWith('.map') });
  await chmod(target, 0o755);
  for (const entry of await readdir(target, { recursive: true, withFileTypes: true })) {
    await chmod(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
  return target;
}
