#!/usr/bin/env node
// `npx tessel contribute --relay <multiaddr> [--budget 0.5]`: the headless contributor.
// Builds dist-relay/tessel.js from src/ when it is missing or older than the sources, then runs
// it with what Dawn needs to find a Vulkan driver (scripts/gpu-env.mjs).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeGpuEnv } from '../scripts/gpu-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist-relay', 'tessel.js');

/** Newest modification time under `dir`, in ms. */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (!existsSync(entry) || statSync(entry).mtimeMs < newest(join(root, 'src'))) {
  console.error('tessel: building the headless contributor (once per change of src/)…');
  const { build } = await import('vite');
  await build({ root, configFile: join(root, 'vite.node.config.ts'), logLevel: 'warn' });
}

const child = spawn(process.execPath, [entry, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, ...nodeGpuEnv(process.env) },
});
// Ctrl+C reaches the child too (same process group): it stops cleanly and exits; wait for it.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
