#!/usr/bin/env node
// `npx tessel contribute --relay <multiaddr> [--budget 0.5]`: the headless contributor.
// Builds dist-relay/tessel.js from src/ when it is missing or older than the sources, then runs
// it with what Dawn needs to find a Vulkan driver (scripts/gpu-env.mjs): a child process, as
// LD_LIBRARY_PATH only takes effect in a process started with it.
//
// Signals. The contributor (the child) must hear each stop signal exactly once, whoever sends
// it, and leave the mesh before anything exits:
// - the child runs in its own process group, so Ctrl+C (which signals the terminal's whole
//   foreground group) reaches it once, through us, not twice (a second SIGINT means "do not
//   wait" to it);
// - SIGINT, SIGTERM and SIGHUP sent to us are passed on; we exit when it has, with its code;
// - under `npx`, npm runs us through `/bin/sh -c`: a SIGTERM sent to npx kills that shell and we
//   are orphaned, which we notice (our parent changes) and treat as a SIGTERM;
// - if we die without a word (SIGKILL), the child sees its IPC channel close and stops itself.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeGpuEnv } from '../scripts/gpu-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist-relay', 'tessel.js');
/** How often we look whether our parent is still the one that started us. */
const ORPHAN_CHECK_MS = 250; // ms

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

const parent = process.ppid;
const child = spawn(process.execPath, [entry, ...process.argv.slice(2)], {
  // stdin stays ours: a background process group reading the terminal would be stopped.
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  env: { ...process.env, ...nodeGpuEnv(process.env) },
  // Its own process group (on Windows, where there are none, this would open a console).
  detached: process.platform !== 'win32',
});

/** Passes a stop signal on to the contributor (it says what it does with it). */
function forward(sig) {
  if (child.exitCode === null && child.signalCode === null) child.kill(sig);
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => forward(sig));

const orphaned = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphaned);
  forward('SIGTERM');
}, ORPHAN_CHECK_MS);
orphaned.unref();

child.on('exit', (code, signal) => {
  // Killed by a signal: exit as a shell reports it (128 + its number).
  process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
});
child.on('error', (e) => {
  console.error(`tessel: could not start ${entry}: ${e.message}`);
  process.exit(1);
});
