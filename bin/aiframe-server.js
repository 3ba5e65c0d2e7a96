#!/usr/bin/env node
// Starts aiframe-server, compiling the TypeScript first when needed (see run-built.js).
import { runBuilt } from './run-built.js';

await runBuilt('aiframe-server', 'main.js');
