#!/usr/bin/env node
// `npm test`: every check, in the order that fails fastest. Installs Debian's chromium when it
// is missing and we are root (Playwright cannot download browsers here), waiting for another
// package manager (unattended-upgrades on a fresh machine, say) to finish rather than failing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, ensureChromium } from './chromium.mjs';

/** How long we wait, in all, for another apt or dpkg to let go of its lock. */
const APT_LOCK_WAIT_S = 300; // s
/** How often apt-get is tried again meanwhile. We retry rather than pass DPkg::Lock::Timeout:
 * it does not cover the lists lock apt-get update takes, and a waiting apt-get says nothing. */
const APT_RETRY_S = 5; // s

const bin = (name) => join('node_modules', '.bin', name);
const steps = [
  [
    'build the CPU engine (AssemblyScript → WebAssembly)',
    process.execPath,
    ['scripts/build-wasm.mjs'],
  ],
  ['lint and format (biome)', bin('biome'), ['check', '--error-on-warnings', '.']],
  ['types (tsc, strict)', bin('tsc'), ['--noEmit', '-p', '.']],
  ['unit tests (vitest, WebGPU on SwiftShader in Node)', bin('vitest'), ['run']],
  ['build (vite)', bin('vite'), ['build', '--logLevel', 'warn']],
  [
    'build the embed (vite library mode)',
    bin('vite'),
    ['build', '-c', 'vite.embed.config.ts', '--logLevel', 'warn'],
  ],
  ['end-to-end tests (playwright, headless chromium)', bin('playwright'), ['test']],
];

installChromium();
rmSync('test-results', { recursive: true, force: true });
const started = Date.now();
for (const [title, cmd, args] of steps) {
  console.log(`\n▶ ${title}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n✗ ${title} failed (exit ${r.status ?? r.signal})`);
    summary();
    process.exit(1);
  }
}
summary();
console.log(`all checks passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);

/**
 * Debian's chromium, installed with apt-get when missing and we are root (ensureChromium then
 * only checks it is there, or tells a non-root user what to run). apt-get waits up to
 * APT_LOCK_WAIT_S for a package manager that holds its lock; a failure ends with what to do,
 * not a stack trace.
 */
function installChromium() {
  if (existsSync(CHROMIUM) || process.getuid?.() !== 0) return ensureChromium();
  console.log('Installing Debian chromium (first run on this machine)…');
  const deadline = Date.now() + APT_LOCK_WAIT_S * 1000;
  apt(['update', '-qq'], deadline);
  apt(['install', '-y', '-qq', 'chromium'], deadline);
  ensureChromium();
}

/** Runs apt-get, waiting while another package manager holds its lock; exits with advice. */
function apt(args, deadline) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (let told = false; ; ) {
    const r = spawnSync('apt-get', args, {
      stdio: ['inherit', 'inherit', 'pipe'],
      env,
      encoding: 'utf8',
    });
    const err = r.stderr ?? '';
    const locked = /Could not get lock|Unable to acquire the dpkg|is held by process/i.test(err);
    if (r.status === 0) return;
    if (locked && Date.now() < deadline) {
      if (!told) {
        console.log(
          `Another package manager holds apt's lock (${lockHolder(err)}); waiting up to ${APT_LOCK_WAIT_S} s for it to finish…`,
        );
        told = true;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, APT_RETRY_S * 1000);
      continue;
    }
    process.stderr.write(err);
    const what = `apt-get ${args.join(' ')}`;
    console.error(
      locked
        ? `\n✗ ${what}: another package manager (${lockHolder(err)}) still held apt's lock after ${APT_LOCK_WAIT_S} s.\n` +
            '  Let it finish (or see what it is doing: ps -fp <pid>), then run npm test again.'
        : r.error
          ? `\n✗ could not run apt-get (${r.error.message}). Install chromium yourself, or set TESSEL_CHROMIUM to a Chromium or Chrome binary, then run npm test again.`
          : `\n✗ ${what} failed (exit ${r.status ?? r.signal}). Install chromium yourself (apt-get install -y chromium), or set TESSEL_CHROMIUM to a Chromium or Chrome binary, then run npm test again.`,
    );
    process.exit(1);
  }
}

/** "process 1234 (unattended-upgr)" from apt's message, or "another process". */
function lockHolder(err) {
  const holder = /held by process (\d+ \([^)]*\))/.exec(err);
  return holder ? `process ${holder[1]}` : 'another process';
}

/** One closing line over both runners, e.g. `tests: 61 passed, 0 failed`. */
function summary() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  try {
    const v = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
    passed += v.numPassedTests;
    failed += v.numFailedTests;
    skipped += v.numPendingTests + v.numTodoTests;
  } catch {}
  try {
    const p = JSON.parse(readFileSync('test-results/e2e.json', 'utf8'));
    passed += p.stats.expected;
    failed += p.stats.unexpected + p.stats.flaky;
    skipped += p.stats.skipped;
  } catch {}
  console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
}
