import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError } from '../../config/config-error.js';
import { ADMIN_TOKEN_RULE, isAcceptableAdminToken } from '../../config/options-schema.js';
import type { SecretRegistry } from '../../logging/secret-registry.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { Logger } from '../../util/logger.js';
import { readableByOthers, readableFileAdvice } from '../../util/private-files.js';
import { readTextIfExists } from '../../util/read-if-exists.js';

/** The environment variable that may hold the token when options.yml does not. */
export const ADMIN_TOKEN_VARIABLE = 'AIFRAME_ADMIN_TOKEN';
/** Where a generated token is kept, inside the data folder. */
export const ADMIN_TOKEN_FILE = 'admin-token';

export type AdminTokenSource = 'options' | 'environment' | 'file' | 'generated';

export interface AdminTokenOptions {
  /** `admin_token` from options.yml (validated there). */
  readonly configured?: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly dataDir: string;
  readonly logger: Logger;
  /** The token is added here, so no log line can carry it. */
  readonly secrets: SecretRegistry;
  /**
   * Where a generated token is shown, once: the console of whoever started the server, never
   * a log file (log files get copied, attached to bug reports and kept for weeks).
   */
  readonly terminal: (line: string) => void;
}

/**
 * Finds the admin token: `admin_token` in options.yml, else AIFRAME_ADMIN_TOKEN, else the one
 * kept in data/admin-token, else a new one (32 random bytes, base64url) written there.
 */
export async function resolveAdminToken(options: AdminTokenOptions): Promise<{ token: string; source: AdminTokenSource }> {
  const { logger, secrets } = options;
  if (options.configured !== undefined) {
    secrets.add(options.configured);
    return { token: options.configured, source: 'options' };
  }
  const fromEnvironment = options.environment[ADMIN_TOKEN_VARIABLE]?.trim();
  if (fromEnvironment !== undefined && fromEnvironment !== '') {
    // The value is never part of the message, even when it is refused.
    if (!isAcceptableAdminToken(fromEnvironment)) throw new ConfigError(`${ADMIN_TOKEN_VARIABLE}: ${ADMIN_TOKEN_RULE}`);
    secrets.add(fromEnvironment);
    logger.info(`admin token: taken from ${ADMIN_TOKEN_VARIABLE}`);
    return { token: fromEnvironment, source: 'environment' };
  }
  const file = join(options.dataDir, ADMIN_TOKEN_FILE);
  const stored = (await readTextIfExists(file))?.trim();
  if (stored !== undefined) {
    if (!isAcceptableAdminToken(stored)) {
      throw new ConfigError(`${file}: ${ADMIN_TOKEN_RULE}; delete the file to have a new token generated`);
    }
    secrets.add(stored);
    logger.info(`admin token: read from ${file}`);
    const mode = await readableByOthers(file);
    if (mode !== undefined) logger.warn(readableFileAdvice(file, 'the admin token', mode));
    return { token: stored, source: 'file' };
  }
  const token = randomBytes(32).toString('base64url');
  // Owner-only: writeFileAtomic gives the temporary file its mode before the token is in it,
  // so no other local user can read it at any moment.
  await writeFileAtomic(file, `${token}\n`, { mode: 0o600 });
  secrets.add(token);
  // The owner needs it for the web page: shown once where they are looking, and kept in the file.
  options.terminal(`aiframe-server: admin token generated for the web page and the API (shown only this once; also in ${file}): ${token}`);
  logger.warn(`admin token generated for the web page and the API: shown once on the console, not in the log; it is kept in ${file}`);
  return { token, source: 'generated' };
}
