import { readFileSync } from 'node:fs';
import { loadConfig } from './config/load-config.js';
import { describeStartupFailure } from './config/startup-failure.js';
import { parseStartupOptions, USAGE } from './config/startup-options.js';
import { createAppLogger, type AppLogger } from './logging/create-logger.js';
import { SecretRegistry } from './logging/secret-registry.js';
import { startServer } from './server.js';

/**
 * `aiframe-server`: read the configuration, start, and stop cleanly on SIGTERM/SIGINT.
 * Resolves with the exit code to exit with now (help, version, a failed start), or undefined
 * once the server is running. A mistake the owner must fix is one line on stderr and exit
 * code 2 (see startup-failure.ts); anything else is a bug and is thrown, stack and all.
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  let logger: AppLogger | undefined;
  try {
    const startup = parseStartupOptions(argv, env);
    if (startup.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (startup.version) {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    const { config, notices } = await loadConfig(startup);
    const version = packageVersion();
    const secrets = new SecretRegistry();
    logger = createAppLogger({ level: config.logLevel, dir: config.paths.logDir, secrets });
    logger.info(`aiframe-server ${version} starting`, {
      data: config.paths.dataDir,
      images: config.paths.imagesDir,
      log: config.paths.logDir,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
    for (const notice of notices) logger[notice.level](notice.message);
    const server = await startServer({
      config,
      logger,
      secrets,
      version,
      environment: env,
      // The person who started the server reads the console; the log files never get these lines.
      terminal: (line) => process.stdout.write(`${line}\n`),
    });
    const running = logger;
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      running.info(`${signal} received; stopping`);
      await server.close();
      running.info('stopped');
      await running.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    return undefined;
  } catch (error) {
    const failure = describeStartupFailure(error);
    if (failure === undefined) {
      logger?.error(`start-up failed: ${(error as Error).stack ?? String(error)}`);
      await logger?.close();
      throw error;
    }
    process.stderr.write(`aiframe-server: ${failure.message}\n`);
    logger?.error(`start-up failed: ${failure.message}`);
    await logger?.close();
    return failure.exitCode;
  }
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
