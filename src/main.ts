import { main } from './cli.js';

main(process.argv.slice(2), process.env).then(
  (exitCode) => {
    // A failed start ends here even if something it began still holds the event loop: a
    // service manager acts on the exit code, and a process that lingers gets none.
    if (exitCode !== undefined) process.exit(exitCode);
  },
  (error: unknown) => {
    process.stderr.write(`aiframe-server: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
