import { defineConfig } from 'vitest/config';
import { buildWasm } from './scripts/build-wasm.mjs';
import { nodeGpuEnv } from './scripts/gpu-env.mjs';

// The CPU engine's WebAssembly is compiled from assembly/ before anything imports it.
buildWasm();

// Dawn's node binding loads Vulkan when the process starts, so the variables that point it at
// SwiftShader must be in the environment of the forked test processes, not set inside a test.
Object.assign(process.env, nodeGpuEnv(process.env));

export default defineConfig({
  test: {
    include: ['tests/{unit,integration}/**/*.test.ts'],
    pool: 'forks',
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
