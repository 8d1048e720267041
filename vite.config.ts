import { defineConfig } from 'vite';
import { buildWasm } from './scripts/build-wasm.mjs';

// The CPU engine's WebAssembly is compiled from assembly/ before anything imports it.
buildWasm();

// es2022: libp2p uses BigInt and top-level await (see ../shared/design/FACTS.md).
export default defineConfig({
  // The mesh chunk (libp2p, ~180 kB gzipped) is loaded after the page is up.
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 1024 },
  worker: { format: 'es' },
  server: { host: '127.0.0.1' },
  // Other sites load the embed (dist/embed/) and its worker cross-origin: static files, no
  // credentials, so any origin may.
  preview: { host: '127.0.0.1', cors: { origin: '*' } },
});
