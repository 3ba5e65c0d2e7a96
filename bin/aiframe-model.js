#!/usr/bin/env node
// Runs the model command (`npm run model -- list|pull|verify`), compiling the TypeScript
// first when needed (see run-built.js).
import { runBuilt } from './run-built.js';

await runBuilt('aiframe-model', 'model-main.js');
