import { defineConfig } from 'vite';
import { buildWasm } from './scripts/build-wasm.mjs';

// The CPU engine's WebAssembly is compiled from assembly/ before anything imports it.
buildWasm();

// The embeddable contributor as an ES library: dist/embed/tessel.js plus its chunks (libp2p is
// loaded when the visitor switches Contribute on) and the compute Worker. `base: './'` makes
// every asset URL relative to the script, so the files work from any path on any host.
export default defineConfig({
  base: './',
  publicDir: false,
  build: {
    target: 'es2022',
    outDir: 'dist/embed',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
    lib: { entry: 'src/ui/embed.ts', formats: ['es'], fileName: () => 'tessel.js' },
  },
  worker: { format: 'es' },
});
