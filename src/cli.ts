import { readFileSync } from 'node:fs';
import { ConfigError } from './config/config-error.js';
import { loadConfig } from './config/load-config.js';
import { parseStartupOptions, USAGE } from './config/startup-options.js';
import { createAppLogger } from './logging/create-logger.js';
import { SecretRegistry } from './logging/secret-registry.js';
import { startServer } from './server.js';

/** `aiframe-server`: read the configuration, start, and stop cleanly on SIGTERM/SIGINT. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  let loaded;
  let startup;
  try {
    startup = parseStartupOptions(argv, env);
    if (startup.help) {
      process.stdout.write(USAGE);
      return;
    }
    if (startup.version) {
      process.stdout.write(`${packageVersion()}\n`);
      return;
    }
    loaded = await loadConfig(startup);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`aiframe-server: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  const { config, notices } = loaded;
  const version = packageVersion();
  const secrets = new SecretRegistry();
  const logger = createAppLogger({ level: config.logLevel, dir: config.paths.logDir, secrets });
  logger.info(`aiframe-server ${version} starting`, {
    data: config.paths.dataDir,
    images: config.paths.imagesDir,
    log: config.paths.logDir,
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  });
  for (const notice of notices) logger[notice.level](notice.message);

  let server;
  try {
    server = await startServer({ config, logger, secrets, version, environment: env });
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : (error as Error).stack ?? String(error);
    logger.error(`start-up failed: ${message}`);
    process.stderr.write(`aiframe-server: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
    await logger.close();
    process.exitCode = error instanceof ConfigError ? 2 : 1;
    return;
  }

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received; stopping`);
    await server.close();
    logger.info('stopped');
    await logger.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
