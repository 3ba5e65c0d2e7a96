/** The real `aiframe-server` command as a child process, for exit codes and what it prints. */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The compiled entry that `bin/aiframe-server.js` runs. */
export const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the command was still running at the guard and had to be killed. */
  readonly killedAtGuard: boolean;
}

export interface CliRunOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Run as this user (needs root): permission tests as `nobody`. */
  readonly uid?: number;
  readonly gid?: number;
  /**
   * A start-up that should fail is killed after this long, so a hang fails the test instead of
   * the run; a generous bound, not a timing being tested.
   */
  readonly guardMs?: number;
}

/** The machine's own credentials and tokens must not reach the child. */
function cleanEnvironment(extra: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('YANDEX_') && key !== 'OPENAI_API_KEY' && key !== 'AIFRAME_ADMIN_TOKEN') env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs `node dist/src/main.js <args>` from `/` and resolves once it has exited. */
export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: '/',
      env: cleanEnvironment(options.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    let stdout = '';
    let stderr = '';
    let killedAtGuard = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const guard = setTimeout(() => {
      killedAtGuard = true;
      child.kill('SIGKILL');
    }, options.guardMs ?? 30_000);
    child.once('error', (error) => {
      clearTimeout(guard);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr, killedAtGuard });
    });
  });
}

/** The flags that put every folder under `root`, on a loopback port. */
export function folderArgs(root: string, port = 0): string[] {
  return ['--host', '127.0.0.1', '--port', String(port), '--data', `${root}/data`, '--images', `${root}/images`, '--log', `${root}/log`];
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The uid/gid of `nobody` when these tests run as root (whom permission bits do not stop); undefined otherwise. */
export function unprivilegedUser(): { uid: number; gid: number } | undefined {
  return process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
}

/**
 * Why `nobody` cannot run the command from this checkout (a private home folder on the way
 * to it), or undefined when it can. Tests that need `nobody` skip with this reason.
 */
export async function whyNobodyCannotRun(): Promise<string | undefined> {
  const user = unprivilegedUser();
  if (user === undefined) return undefined;
  const run = await runCli(['--version'], user);
  return run.code === 0 ? undefined : `uid ${user.uid} cannot run ${MAIN} from this checkout (exit ${run.code}): ${run.stderr.trim().split('\n')[0] ?? ''}`;
}
