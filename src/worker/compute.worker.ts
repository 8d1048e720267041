/// <reference lib="webworker" />
// The compute Worker: owns the WebGPU device so kernels never block the page.
import * as Comlink from 'comlink';
import { idbTuneStore } from '../gpu/tune-store-idb';
import { createComputeApi } from './api';
import './comlink-errors';
import { serveCompute } from './serve';
import { computeSpawnOptions } from './spawn';

// The page says by the Worker's name whether to install fault injection (spawn.ts).
const api = createComputeApi({ tuneStore: idbTuneStore() });
Comlink.expose(serveCompute(api, computeSpawnOptions(self.name)));
