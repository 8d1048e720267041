#!/usr/bin/env node
// `npm start`: builds the static site and serves it on localhost, then prints the URL.
//   PORT=8080 npm start     (default 5173; 0 picks a free port)
import { build, preview } from 'vite';

const port = Number(process.env.PORT ?? 5173);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(
    `PORT must be a whole number from 0 to 65535, got ${JSON.stringify(process.env.PORT)}`,
  );
  process.exit(2);
}

await build({ logLevel: 'warn' });
const server = await preview({ preview: { port, strictPort: port !== 0, host: 'localhost' } });
const url = server.resolvedUrls?.local[0] ?? `http://localhost:${port}/`;
console.log(`\ntessel is running at ${url}`);
console.log('Open it in Chrome or Edge (WebGPU needs https or localhost). Ctrl+C stops.\n');

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await server.close();
    process.exit(0);
  });
}
