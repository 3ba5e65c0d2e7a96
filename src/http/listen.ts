import type { Server } from 'node:net';
import { ConfigError } from '../config/config-error.js';
import { errnoCode } from '../util/fs-errors.js';

export interface ListenOptions {
  readonly port: number;
  readonly host: string;
  /** Where the owner changes this port, for the message: `--port (or PORT)`, `tls.port in /data/options.yml`. */
  readonly portSetting: string;
  /** Where the owner changes the address. */
  readonly hostSetting?: string;
}

/**
 * Starts listening. A port taken by another program, one the process may not open, or an
 * address this machine does not have is the owner's to fix: a {@link ConfigError} with the
 * port and the fix, so start-up stops with exit code 2 and that one line.
 */
export function listen(server: Server, options: ListenOptions): Promise<void> {
  return new Promise((resolveListen, reject) => {
    const failed = (error: unknown): void => reject(describeListenError(error, options) ?? error);
    server.once('error', failed);
    server.listen(options.port, options.host, () => {
      server.off('error', failed);
      resolveListen();
    });
  });
}

function describeListenError(error: unknown, { port, host, portSetting, hostSetting = '--host (or HOST)' }: ListenOptions): ConfigError | undefined {
  switch (errnoCode(error)) {
    case 'EADDRINUSE':
      return new ConfigError(`another program listens on port ${port}: stop it or set ${portSetting} to a free port`);
    case 'EACCES':
    case 'EPERM':
      return new ConfigError(`cannot listen on port ${port}: this user may not open it (ports below 1024 need extra rights); set ${portSetting} to 1024 or above`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(`cannot listen on ${host}: this machine has no such address; set ${hostSetting} to one of its addresses, or 0.0.0.0 for all`);
    default:
      return undefined;
  }
}
