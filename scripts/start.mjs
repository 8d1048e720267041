#!/usr/bin/env node
// `npm start`: builds the app and the relay, starts the relays (RELAYS of them, peered with each
// other, on RELAY_PORT, RELAY_PORT+1, …), serves the app with a config.json that points pages at
// them, and prints the addresses. It also serves the embed example (a site on another origin
// that embeds the contributor).
//   PORT=8080 RELAY_PORT=9091 EXAMPLE_PORT=8081 RELAYS=3 npm start
//   (defaults 5173, 9090, 5174 and 1; a port of 0 picks a free one)
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { build, preview } from 'vite';
import { serveExample } from './example-site.mjs';

const port = readPort('PORT', 5173);
const relayPort = readPort('RELAY_PORT', 9090);
const examplePort = readPort('EXAMPLE_PORT', 5174);
const relayCount = readCount('RELAYS', 1, 16);

await build({ logLevel: 'warn' });
await build({ configFile: 'vite.embed.config.ts', logLevel: 'warn' });
await build({ configFile: 'vite.node.config.ts', logLevel: 'warn' });

const relays = [];
const relayAddrs = [];
for (let i = 0; i < relayCount; i++) {
  // Each relay keeps its own key (.relay/key, .relay/key-2, …) so its address survives restarts,
  // and dials the ones started before it; they keep each other connected from then on.
  const args = ['dist-relay/main.js', '--port', String(relayPort === 0 ? 0 : relayPort + i)];
  args.push('--key', i === 0 ? '.relay/key' : `.relay/key-${i + 1}`);
  for (const peer of relayAddrs) args.push('--peer', peer);
  const { child, addrs } = await startRelayProcess(args);
  relays.push(child);
  relayAddrs.push(addrs[0]);
}

// Pages read this to find the relay (a ?relay=<multiaddr> in the page URL overrides it).
writeFileSync(
  'dist/config.json',
  `${JSON.stringify({ relays: relayAddrs, iceServers: [] }, null, 2)}\n`,
);

const server = await preview({ preview: { port, strictPort: port !== 0, host: 'localhost' } });
const url = server.resolvedUrls?.local[0] ?? `http://localhost:${port}/`;
const example = await serveExample({
  port: examplePort,
  embedUrl: new URL('embed/tessel.js', url).href,
  relay: relayAddrs.join(' '), // the element's attribute takes several, space-separated
});
console.log(`\ntessel is running at ${url}`);
console.log(`embed example (another origin) at ${example.url}`);
console.log(`relay${relayCount > 1 ? 's' : ''} (signalling) at ${relayAddrs.join('\n  ')}`);
console.log('Open the URL in Chrome or Edge, in two or more tabs to see the mesh. Ctrl+C stops.\n');

const stop = async () => {
  for (const relay of relays) relay.kill('SIGTERM');
  await Promise.all([server.close(), example.close()]);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

function readPort(name, fallback) {
  const raw = process.env[name];
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < 0 || v > 65535) {
    console.error(`${name} must be a whole number from 0 to 65535, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return v;
}

/** Starts one relay process; resolves with its addresses (the first line it prints). */
async function startRelayProcess(args) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const addrs = await new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`the relay exited (code ${code}) before it was ready`)),
    );
    createInterface({ input: child.stdout }).once('line', (line) => {
      try {
        resolve(JSON.parse(line).relay);
      } catch {
        reject(new Error(`unexpected first line from the relay: ${line}`));
      }
    });
  }).catch((e) => {
    console.error(e.message);
    for (const r of relays) r.kill('SIGTERM');
    process.exit(1);
  });
  child.stdout.pipe(process.stdout);
  return { child, addrs };
}

function readCount(name, fallback, max) {
  const raw = process.env[name];
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < 1 || v > max) {
    console.error(`${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return v;
}
