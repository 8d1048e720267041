import { defineConfig } from 'vite';

// Builds the training script (training/train.ts) for Node; `npm run train` runs it.
export default defineConfig({
  publicDir: false,
  build: { ssr: 'training/train.ts', outDir: 'dist-train', target: 'node20', emptyOutDir: true },
  logLevel: 'warn',
});
