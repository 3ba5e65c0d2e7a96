import { main } from './cli.js';

main(process.argv.slice(2), process.env).catch((error: unknown) => {
  process.stderr.write(`aiframe-server: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
