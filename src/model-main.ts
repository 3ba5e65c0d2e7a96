import { modelCli } from './model-cli.js';

// Entry point of bin/aiframe-model.js (`npm run model -- ...`). An interrupted pull needs no
// clean-up: the `.partial` file and the stale lock are picked up by the next run.
modelCli(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`aiframe-model: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
