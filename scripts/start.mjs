#!/usr/bin/env node
// `npm start`: builds the app and the relay, starts the relay, serves the app with a
// config.json that points pages at the relay, and prints both addresses.
// It also serves the embed example (a site on another origin that embeds the contributor).
//   PORT=8080 RELAY_PORT=9091 EXAMPLE_PORT=8081 npm start
//   (defaults 5173, 9090 and 5174; 0 picks a free port)
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { build, preview } from 'vite';
import { serveExample } from './example-site.mjs';

const port = readPort('PORT', 5173);
const relayPort = readPort('RELAY_PORT', 9090);
const examplePort = readPort('EXAMPLE_PORT', 5174);

await build({ logLevel: 'warn' });
await build({ configFile: 'vite.embed.config.ts', logLevel: 'warn' });
await build({ configFile: 'vite.relay.config.ts', logLevel: 'warn' });

const relay = spawn(process.execPath, ['dist-relay/main.js', '--port', String(relayPort)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const relayAddrs = await new Promise((resolve, reject) => {
  relay.once('exit', (code) =>
    reject(new Error(`the relay exited (code ${code}) before it was ready`)),
  );
  createInterface({ input: relay.stdout }).once('line', (line) => {
    try {
      resolve(JSON.parse(line).relay);
    } catch {
      reject(new Error(`unexpected first line from the relay: ${line}`));
    }
  });
}).catch((e) => {
  console.error(e.message);
  process.exit(1);
});
relay.stdout.pipe(process.stdout);

// Pages read this to find the relay (a ?relay=<multiaddr> in the page URL overrides it).
writeFileSync(
  'dist/config.json',
  `${JSON.stringify({ relay: relayAddrs[0], iceServers: [] }, null, 2)}\n`,
);

const server = await preview({ preview: { port, strictPort: port !== 0, host: 'localhost' } });
const url = server.resolvedUrls?.local[0] ?? `http://localhost:${port}/`;
const example = await serveExample({
  port: examplePort,
  embedUrl: new URL('embed/tessel.js', url).href,
  relay: relayAddrs[0],
});
console.log(`\ntessel is running at ${url}`);
console.log(`embed example (another origin) at ${example.url}`);
console.log(`relay (signalling) at ${relayAddrs.join(', ')}`);
console.log('Open the URL in Chrome or Edge, in two or more tabs to see the mesh. Ctrl+C stops.\n');

const stop = async () => {
  relay.kill('SIGTERM');
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
