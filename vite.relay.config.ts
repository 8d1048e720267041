import { defineConfig } from 'vite';

// Builds the Node relay (src/relay/main.ts) into dist-relay/main.js; npm start runs it.
export default defineConfig({
  publicDir: false,
  build: {
    ssr: 'src/relay/main.ts',
    outDir: 'dist-relay',
    target: 'node20',
    emptyOutDir: true,
  },
  logLevel: 'warn',
});
