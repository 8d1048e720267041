import { defineConfig } from 'vite';
import { buildWasm } from './scripts/build-wasm.mjs';

// The CPU engine's WebAssembly is compiled from assembly/ before anything imports it.
buildWasm();

// Builds the Node entry points: the relay (dist-relay/main.js, which npm start runs) and the
// headless contributor (dist-relay/tessel.js, which bin/tessel.mjs runs).
export default defineConfig({
  publicDir: false,
  build: {
    ssr: true,
    rollupOptions: {
      input: { main: 'src/relay/main.ts', tessel: 'src/headless/cli.ts' },
    },
    outDir: 'dist-relay',
    target: 'node20',
    emptyOutDir: true,
  },
  logLevel: 'warn',
});
