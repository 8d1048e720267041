// Node entry: `node dist-relay/main.js [--port 9090] [--host 127.0.0.1] [--key .relay/key]
//   [--peer <multiaddr of another relay>]…`.
import './polyfills';
import { parseArgs } from 'node:util';
import { multiaddr } from '@multiformats/multiaddr';
import { print, printError } from '../log/log';
import { startRelay } from './relay';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.RELAY_PORT ?? '9090' },
    host: { type: 'string', default: '127.0.0.1' },
    key: { type: 'string', default: '.relay/key' },
    peer: { type: 'string', multiple: true, default: [] },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  printError(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(values.port)}`);
  process.exit(2);
}
for (const p of values.peer) {
  try {
    if (!multiaddr(p).toString().includes('/p2p/')) throw new Error('no /p2p/<peer id>');
  } catch (e) {
    printError(`--peer ${JSON.stringify(p)} is not a relay multiaddr: ${(e as Error).message}`);
    process.exit(2);
  }
}
const relay = await startRelay({
  port,
  host: values.host,
  keyFile: values.key,
  peers: values.peer,
});
// The first line is machine-readable: scripts/start.mjs reads the addresses from it.
print(JSON.stringify({ relay: relay.multiaddrs }));
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => void relay.stop().then(() => process.exit(0)));
}
