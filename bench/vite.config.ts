import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { buildWasm } from '../scripts/build-wasm.mjs';

// The CPU engine's WebAssembly is compiled from assembly/ before anything imports it.
buildWasm();

// The benchmark page is its own small site: TF.js (the peer we measure against) never enters
// the app's bundle.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The app's public folder, for the shipped model.
  publicDir: fileURLToPath(new URL('../public', import.meta.url)),
  build: {
    target: 'es2022',
    outDir: fileURLToPath(new URL('../dist-bench', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: {
        matmul: fileURLToPath(new URL('index.html', import.meta.url)),
        mesh: fileURLToPath(new URL('mesh.html', import.meta.url)),
        scheduler: fileURLToPath(new URL('scheduler.html', import.meta.url)),
        inference: fileURLToPath(new URL('inference.html', import.meta.url)),
        ledger: fileURLToPath(new URL('ledger.html', import.meta.url)),
        models: fileURLToPath(new URL('models.html', import.meta.url)),
      },
    },
  },
  // Cross-origin isolated, as the app: threads for tessel's CPU engine and ORT's wasm backend.
  preview: {
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
  logLevel: 'warn',
});
