/**
 * The logging surface every module receives. A winston logger satisfies it; tests pass
 * {@link createMemoryLogger} to assert on what was logged. Modules never import winston.
 */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  meta?: Record<string, unknown>;
}

/** A logger that keeps records in memory, for tests and for quiet library use. */
export function createMemoryLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord['level']) =>
    (message: string, meta?: Record<string, unknown>): void => {
      records.push(meta === undefined ? { level, message } : { level, message, meta });
    };
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
