import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';
import type { LogLevel } from '../config/app-config.js';
import type { Logger } from '../util/logger.js';
import { redactSecrets, type SecretRegistry } from './secret-registry.js';

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Folder for the rotating log files; no file logging when undefined. */
  readonly dir?: string;
  /** Values that must never reach a log line (API keys): replaced before anything is written. */
  readonly secrets: SecretRegistry;
  /** Bounded disk use: at most `maxFiles` files of `maxBytes` each. */
  readonly maxBytes?: number;
  readonly maxFiles?: number;
  /** Console output; off in tests that only read the files. */
  readonly console?: boolean;
}

export type AppLogger = Logger & {
  setLevel(level: LogLevel): void;
  close(): Promise<void>;
};

/** The current log file in the log folder; winston renames older ones beside it. */
export const LOG_FILE_NAME = 'aiframe-server.log';

/** One line per event: `2026-11-21T19:07:43.120Z info  message key=value ...`. */
const lineFormat = winston.format.printf((info) => {
  const { timestamp, level, message, ...meta } = info as Record<string, unknown> & { level: string };
  const extras = Object.entries(meta)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? JSON.stringify(value) : safeJson(value)}`)
    .join(' ');
  return `${String(timestamp)} ${level.padEnd(5)} ${String(message)}${extras ? ` ${extras}` : ''}`;
});

/** The console and rotating files in `log/` get the same lines, secrets removed. */
export function createAppLogger(options: LoggerOptions): AppLogger {
  const redact = winston.format((info) => redactSecrets(info, options.secrets))();
  const transports: winston.transport[] = [];
  if (options.console ?? true) {
    transports.push(new winston.transports.Console({ stderrLevels: [] }));
  }
  if (options.dir !== undefined) {
    mkdirSync(options.dir, { recursive: true });
    const filename = join(options.dir, LOG_FILE_NAME);
    // Opened once here so a folder in its place or a missing permission stops start-up with
    // the path: winston's transport would report it asynchronously and then log nowhere.
    closeSync(openSync(filename, 'a'));
    transports.push(
      new winston.transports.File({
        filename,
        maxsize: options.maxBytes ?? 10 * 1024 * 1024,
        maxFiles: options.maxFiles ?? 5,
        tailable: true,
      }),
    );
  }
  const logger = winston.createLogger({
    level: options.level,
    format: winston.format.combine(redact, winston.format.timestamp(), lineFormat),
    transports,
  });
  const write =
    (level: LogLevel) =>
    (message: string, meta?: Record<string, unknown>): void => {
      // Checked first: winston would otherwise run the whole format pipeline for a line it drops.
      if (!logger.isLevelEnabled(level)) return;
      logger.log(level, message, meta ?? {});
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel(level) {
      logger.level = level;
    },
    close: () =>
      new Promise<void>((resolvePromise) => {
        logger.on('finish', () => resolvePromise());
        logger.end();
      }),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
