/**
 * `npm run bench`: every benchmark of the project, one after another, each printing its
 * figures. Targets are printed beside the figures; a benchmark never fails the build.
 */
import { runLoadBench } from './load.js';
import { runImageQualityBench } from './image-quality.js';
import { runOnnxOverheadBench } from './onnx-overhead.js';

const only = process.argv[2];
if (!only || only === 'load') await runLoadBench();
if (!only || only === 'image-quality') await runImageQualityBench();
if (!only || only === 'onnx') await runOnnxOverheadBench();
