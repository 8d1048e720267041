import { defineConfig } from 'vite';
import { buildWasm } from './scripts/build-wasm.mjs';

// The CPU engine's WebAssembly is compiled from assembly/ before anything imports it.
buildWasm();

/**
 * Cross-origin isolation, so the page may share memory between threads (SharedArrayBuffer):
 * the CPU engine computes on every core only then. Nothing the app loads comes from another
 * origin; CORP lets isolated sites embed the contributor's files. public/_headers says the same
 * to static hosts (Netlify, Cloudflare Pages).
 */
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

// es2022: libp2p uses BigInt and top-level await.
export default defineConfig({
  // The mesh chunk (libp2p, ~180 kB gzipped) is loaded after the page is up.
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 1024 },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', headers: ISOLATION },
  // Other sites load the embed (dist/embed/) and its worker cross-origin: static files, no
  // credentials, so any origin may.
  preview: { host: '127.0.0.1', cors: { origin: '*' }, headers: ISOLATION },
});
