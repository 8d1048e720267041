import { defineConfig } from 'vite';

// es2022: libp2p and our verifiers use BigInt and top-level await (see FACTS.md).
export default defineConfig({
  build: { target: 'es2022', sourcemap: true },
  worker: { format: 'es' },
  optimizeDeps: { esbuildOptions: { target: 'es2022' } },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
