import { defineConfig } from 'vite';

// es2022: libp2p uses BigInt and top-level await (see ../shared/design/FACTS.md).
export default defineConfig({
  build: { target: 'es2022', sourcemap: true },
  worker: { format: 'es' },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
