/**
 * Start-up mistakes the owner makes with folders, permissions and the port: the real command
 * stops with exit code 2 and one line on stderr that names the file, the problem and the fix,
 * never a stack trace (a unit with RestartPreventExitStatus=2 must not restart-loop on them).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStartupFailure } from '../../src/config/startup-failure.js';
import { ConfigError } from '../../src/config/config-error.js';
import { folderArgs, freePort, runCli, unprivilegedUser, whyNobodyCannotRun, type CliRun } from '../support/cli-process.js';

const roots: string[] = [];
async function freshRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-startup-'));
  roots.push(root);
  return root;
}

after(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

/** Exit code 2 and exactly one line on stderr, matching every pattern, with no stack frame. */
function assertSetupFailure(run: CliRun, ...patterns: RegExp[]): string {
  const output = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
  assert.equal(run.killedAtGuard, false, `still running at the guard, so it hangs:\n${output}`);
  assert.equal(run.code, 2, output);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr:\n${output}`);
  const line = lines[0] ?? '';
  assert.match(line, /^aiframe-server: /);
  assert.ok(!/\n\s+at /.test(run.stdout + run.stderr), `no stack trace:\n${output}`);
  for (const pattern of patterns) assert.match(line, pattern);
  return line;
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('start-up: a folder where a file belongs', () => {
  for (const file of ['data/options.yml', 'data/prompts.json', 'data/stats.json', 'data/jobs.json', 'data/admin-token', 'log/aiframe-server.log']) {
    test(`${file} is a folder`, async () => {
      const root = await freshRoot();
      await mkdir(join(root, file), { recursive: true });
      const run = await runCli(folderArgs(root));
      assertSetupFailure(run, new RegExp(escaped(join(root, file))), /is a folder, but a file belongs there/, /move the folder away/);
    });
  }
});

describe('start-up: a file where a folder belongs', () => {
  for (const folder of ['data', 'images', 'log']) {
    test(`${folder}/ is a file`, async () => {
      const root = await freshRoot();
      await writeFile(join(root, folder), 'not a folder\n');
      const run = await runCli(folderArgs(root));
      assertSetupFailure(run, new RegExp(escaped(join(root, folder))), /is a file, but a folder belongs there/, /move the file away/);
    });
  }

  for (const flag of ['--data', '--images', '--log']) {
    test(`the parent of ${flag} is a file`, async () => {
      const root = await freshRoot();
      const blocker = join(root, 'blocker');
      await writeFile(blocker, 'a file\n');
      const args = folderArgs(root);
      args[args.indexOf(flag) + 1] = join(blocker, 'inside');
      const run = await runCli(args);
      assertSetupFailure(run, new RegExp(`${escaped(blocker)} is a file, not a folder`), /move it away or choose another folder/);
    });
  }
});

describe('start-up: no permission', () => {
  // Root passes every permission check: as root the command runs as `nobody` instead.
  const user = unprivilegedUser();
  const runAs = user ?? {};
  const uid = user?.uid ?? process.getuid?.() ?? 0;
  const gid = user?.gid ?? process.getgid?.() ?? 0;

  test('a data folder the server may not write names the uid and the chown to run', async (t) => {
    const reason = await whyNobodyCannotRun();
    if (reason !== undefined) return t.skip(reason);
    const root = await freshRoot();
    await mkdir(join(root, 'data'));
    if (user) {
      await chmod(root, 0o755); // nobody may reach the folders, and only data/ is closed to it
      await mkdir(join(root, 'log'));
      await mkdir(join(root, 'images'));
      await chown(join(root, 'log'), uid, gid);
      await chown(join(root, 'images'), uid, gid);
      await chmod(join(root, 'data'), 0o755);
    } else {
      await chmod(join(root, 'data'), 0o555);
    }
    const run = await runCli(folderArgs(root), runAs);
    await chmod(join(root, 'data'), 0o755);
    assertSetupFailure(
      run,
      new RegExp(escaped(join(root, 'data', 'options.yml'))),
      /permission denied \(EACCES\)/,
      new RegExp(`runs as uid ${uid}`),
      new RegExp(escaped(`chown -R ${uid}:${gid} ${join(root, 'data')}`)),
    );
  });

  test('an images folder the server may not write names it and the chown', async (t) => {
    const reason = await whyNobodyCannotRun();
    if (reason !== undefined) return t.skip(reason);
    const root = await freshRoot();
    for (const folder of ['data', 'images', 'log']) await mkdir(join(root, folder));
    if (user) {
      await chmod(root, 0o755);
      await chown(join(root, 'data'), uid, gid);
      await chown(join(root, 'log'), uid, gid);
    } else {
      await chmod(join(root, 'images'), 0o555);
    }
    const run = await runCli(folderArgs(root), runAs);
    await chmod(join(root, 'images'), 0o755);
    assertSetupFailure(run, new RegExp(escaped(join(root, 'images'))), /permission denied \(EACCES\)/, new RegExp(escaped(`chown -R ${uid}:${gid} ${join(root, 'images')}`)));
    // The log file was open by then: it gets the same line.
    const log = await readFile(join(root, 'log', 'aiframe-server.log'), 'utf8');
    assert.match(log, /permission denied \(EACCES\)/);
  });
});

describe('start-up: the port', () => {
  let blocker: Server | undefined;
  after(() => blocker?.close());

  test('a port another program listens on: exit 2 with one line naming the port and the fix', async () => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(port, '127.0.0.1', resolve));
    const root = await freshRoot();
    const run = await runCli(folderArgs(root, port));
    assertSetupFailure(run, new RegExp(`another program listens on port ${port}: stop it or set --port`));
  });
});

describe('start-up failures in words', () => {
  test('a configuration mistake is its own message; a bug is not a set-up failure', () => {
    assert.deepEqual(describeStartupFailure(new ConfigError('options.yml: port: expected a number')), { message: 'options.yml: port: expected a number', exitCode: 2 });
    assert.equal(describeStartupFailure(new TypeError('cannot read properties of undefined')), undefined);
    // An errno error without a path is not ours to word: it keeps its stack (exit 1).
    assert.equal(describeStartupFailure(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' })), undefined);
  });

  test('a full disk is worded but exits 1: a restart after space is freed may work', () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', path: '/srv/data/stats.json' });
    assert.deepEqual(describeStartupFailure(full), { message: 'cannot write /srv/data/stats.json: the disk is full (ENOSPC); free some space', exitCode: 1 });
  });
});
