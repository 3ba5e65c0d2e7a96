import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { ConfigError } from './config-error.js';

/** What can be set before options.yml is read: from a flag, else the environment, else the default. */
export interface StartupOptions {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Undefined when neither a flag nor the environment set it: options.yml's `image_path` may. */
  readonly imagesDir: string | undefined;
  readonly logDir: string;
  readonly help: boolean;
  readonly version: boolean;
}

export const USAGE = `Usage: aiframe-server [options]

Options (each also settable by the environment variable shown):
  --port <n>       port for the frame and the web page    PORT        (8099)
  --host <addr>    address to listen on                   HOST        (0.0.0.0)
  --data <dir>     options.yml, prompts.json, models      DATA_DIR    (./data)
  --images <dir>   stored pictures and frame renders      IMAGES_DIR  (./images, or image_path in options.yml)
  --log <dir>      rotating log files                     LOG_DIR     (./log)
  --help           show this help
  --version        show the version
`;

export function parseStartupOptions(argv: readonly string[], env: NodeJS.ProcessEnv): StartupOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        data: { type: 'string' },
        images: { type: 'string' },
        log: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError(`command line: ${(error as Error).message}`);
  }
  const portText = values.port ?? env.PORT ?? '8099';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) {
    throw new ConfigError(`${values.port !== undefined ? '--port' : 'PORT'}: expected a port number from 0 to 65535, got "${portText}"`);
  }
  const imagesDir = values.images ?? nonEmpty(env.IMAGES_DIR);
  return {
    host: values.host ?? nonEmpty(env.HOST) ?? '0.0.0.0',
    port,
    dataDir: resolve(values.data ?? nonEmpty(env.DATA_DIR) ?? './data'),
    imagesDir: imagesDir === undefined ? undefined : resolve(imagesDir),
    logDir: resolve(values.log ?? nonEmpty(env.LOG_DIR) ?? './log'),
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
