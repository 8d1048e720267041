// `npx tessel contribute --relay <multiaddr> [--relay …] [--budget 0.5] [--data ~/.tessel]
//   [--ice stun:…]`: a GPU server contributes without a browser. Ctrl+C (SIGINT), SIGTERM or
//   SIGHUP stops it cleanly: it leaves the mesh, giving its leases back, then exits 0.
import '../relay/polyfills';
import { parseArgs } from 'node:util';
import { BUDGET_MAX, BUDGET_MIN, DEFAULT_BUDGET, isBudget } from '../jobs/budget';
import { print, printError } from '../log/log';
import { ConfigError } from '../mesh/config';
import { contribute } from './contribute';
import { formatCredits } from './progress';

const USAGE = `usage: tessel contribute --relay <multiaddr> [--relay <multiaddr>]… [--budget ${DEFAULT_BUDGET}]
                         [--data ~/.tessel] [--ice stun:host:port]… [--engine auto]

  --relay   a relay's multiaddr (…/ws/p2p/<id>, …/wss/p2p/<id>); give two or more to stay
            reachable when one goes down
  --budget  share of wall time the GPU may be busy, ${BUDGET_MIN} to ${BUDGET_MAX} (default ${DEFAULT_BUDGET})
  --data    folder for this contributor's key and ledger (default ~/.tessel)
  --ice     a STUN or TURN server for WebRTC across the internet
  --engine  auto (default: the faster of the GPU and the CPU engine, measured), webgpu or cpu`;

const fail = (message: string): never => {
  printError(`tessel: ${message}\n\n${USAGE}`);
  process.exit(2);
};

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      relay: { type: 'string', multiple: true, default: [] },
      budget: { type: 'string', default: String(DEFAULT_BUDGET) },
      data: { type: 'string' },
      ice: { type: 'string', multiple: true, default: [] },
      engine: { type: 'string', default: 'auto' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
try {
  parsed = parse();
} catch (e) {
  fail((e as Error).message);
}
const { values, positionals } = parsed!;
if (values.help) {
  print(USAGE);
  process.exit(0);
}
if (positionals[0] !== 'contribute' || positionals.length > 1) {
  fail(`unknown command ${JSON.stringify(positionals.join(' '))}`);
}
if (values.relay.length === 0) fail('--relay is required');
const budget = Number(values.budget);
if (!isBudget(budget)) {
  fail(`--budget must be from ${BUDGET_MIN} to ${BUDGET_MAX}, got ${values.budget}`);
}
const use = values.engine;
if (use !== 'auto' && use !== 'webgpu' && use !== 'cpu') {
  fail(`--engine must be auto, webgpu or cpu, got ${JSON.stringify(use)}`);
}

/** Exit codes after a stop signal: 0 when the contributor left the mesh cleanly; a shell's
 * 128 + n when a second signal cut the wait short; 1 when leaving failed. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

try {
  const running = await contribute({
    relays: values.relay,
    budget,
    iceServers: values.ice.map((urls) => ({ urls })),
    ...(values.data ? { dataDir: values.data } : {}),
    use: use as 'auto' | 'webgpu' | 'cpu',
    log: (line) => print(`${new Date().toISOString().slice(11, 19)} ${line}`),
  });
  print(`contributing at budget ${budget}; Ctrl+C stops (leases held are given back)`);
  let stopping = false;
  const stop = (why: string, sig?: string) => {
    if (stopping) {
      if (sig) process.exit(SIGNAL_EXIT[sig] ?? 1); // a second Ctrl+C does not wait
      return;
    }
    stopping = true;
    print(`stopping (${why}): giving leases back…`);
    running.stop().then(
      () => {
        const s = running.stats();
        print(
          `stopped: ${s.verified} shard(s) verified, ${s.rejected} rejected, ${s.superseded} superseded, ${s.abandoned} given back this run; ${formatCredits(s.credit)} earned in all`,
        );
        process.exit(0);
      },
      (e: unknown) => {
        printError(`tessel: could not leave the mesh cleanly: ${(e as Error)?.message ?? e}`);
        process.exit(1);
      },
    );
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => stop(sig, sig));
  // Started by bin/tessel.mjs, which passes signals on: if it dies without a word (SIGKILL),
  // its IPC channel closes, and we leave as on a SIGTERM rather than contribute unwatched.
  if (process.send) process.once('disconnect', () => stop('the tessel command is gone'));
} catch (e) {
  if (e instanceof ConfigError) fail(e.message);
  printError(`tessel: ${(e as Error).message}`);
  process.exit(1);
}
