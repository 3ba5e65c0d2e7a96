/** The real aiframe-server as a child process on fixed folders, as a user runs it, for restart and leak tests. */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface ChildServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything it printed (the console gets the same lines as the log files). */
  output(): string;
  /** Resolves with the exit code or signal once it has exited. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  kill(signal: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `node dist/src/main.js` with --data/--images/--log under `root` and waits until it answers. */
export async function startChildServer(root: string, environment: Record<string, string> = {}): Promise<ChildServer> {
  const port = await freePort();
  // The machine's own credentials, if any, must not leak into the test.
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('YANDEX_')) env[key] = value;
  const child = fork(
    MAIN,
    ['--port', String(port), '--host', '127.0.0.1', '--data', join(root, 'data'), '--images', join(root, 'images'), '--log', join(root, 'log')],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...env, ...environment } },
  );
  let printed = '';
  child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await (await fetch(`${url}/healthz`)).arrayBuffer();
      break;
    } catch {
      if (attempt > 300 || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`the server did not start:\n${printed}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    url,
    process: child,
    output: () => printed,
    exited,
    kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
