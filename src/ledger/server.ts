import type { Stream } from '@libp2p/interface';
import { log, notice } from '../log/log';
import { errorText } from '../wire/fields';
import { Framed } from '../wire/framed';
import { asStreamError, describeStreamError } from '../wire/stream-errors';
import { WireError } from '../wire/wire-error';
import {
  ANSWERER_CODEC,
  isLedgerRequest,
  LEDGER_PROTOCOL,
  type LedgerRequestMsg,
  type LedgerResponseMsg,
  ledgerResponse,
} from './codec';
import type { LedgerRegistrar } from './components';
import type { HeldReceipt } from './entries';
import type { OwnerLog } from './log';

const trace = log('ledger:server');

/** Ledger requests one peer may make at once, and per second after that (audits of a busy
 * contributor page through its entries: 16/s is 16,384 entries a second). */
export const REQUEST_BURST = 64;
export const REQUEST_RATE = 16; // requests per second
/** Peers whose buckets are kept: ids are free to make, so the table is bounded. */
const BUCKETS_KEPT = 1_024;
/** How long a peer may take to send its request once the stream is open. */
const REQUEST_TIMEOUT_MS = 10_000; // ms
/** Streams of the ledger protocol open at once from one connection. */
const MAX_INBOUND_STREAMS = 16;

/** What the server answers from: this tab's log and the receipts it earned. */
export interface LogServerOptions {
  log: Pick<OwnerLog, 'checkpoint' | 'entries' | 'size' | 'consistencyProof' | 'inclusionProof'>;
  /** Receipts this tab earned, with their bundles, in a stable order (pages index into it). */
  held: () => readonly HeldReceipt[];
}

/**
 * Requests per peer as token buckets: REQUEST_BURST at once, refilled at REQUEST_RATE per
 * second. Only the most recent BUCKETS_KEPT peers are remembered.
 */
export class RequestLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes one request from `peer`'s bucket; false when it is empty. */
  admit(peer: string): boolean {
    const now = this.now();
    const b = this.#buckets.get(peer) ?? { tokens: REQUEST_BURST, at: now };
    b.tokens = Math.min(REQUEST_BURST, b.tokens + ((now - b.at) / 1_000) * REQUEST_RATE);
    b.at = now;
    this.#buckets.delete(peer);
    this.#buckets.set(peer, b);
    if (this.#buckets.size > BUCKETS_KEPT) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/**
 * The log server of this tab (a tessera personality's read API): it answers
 * /tessel/ledger/1.0.0 requests for the tab's checkpoint, entries, consistency and inclusion
 * proofs and the receipts it earned, one request per stream, within a per-peer rate limit.
 */
export class LogServer {
  readonly #registrar: LedgerRegistrar;
  readonly #o: LogServerOptions;
  readonly #limiter = new RequestLimiter();

  constructor(components: { registrar: LedgerRegistrar }, o: LogServerOptions) {
    this.#registrar = components.registrar;
    this.#o = o;
  }

  async start(): Promise<void> {
    await this.#registrar.handle(
      LEDGER_PROTOCOL,
      (s, c) => this.serve(s, c.remotePeer.toString()),
      {
        maxInboundStreams: MAX_INBOUND_STREAMS,
      },
    );
  }

  async stop(): Promise<void> {
    await this.#registrar.unhandle(LEDGER_PROTOCOL);
  }

  /** The response to one request; what the log does not have is an `error` response. */
  answer(req: LedgerRequestMsg): LedgerResponseMsg {
    const l = this.#o.log;
    try {
      switch (req.type) {
        case 'checkpoint':
          return ledgerResponse({ checkpoint: l.checkpoint() });
        case 'entries':
          return ledgerResponse({ entries: l.entries(req.from, Math.min(req.to, l.size)) });
        case 'consistency':
          return ledgerResponse({ proof: l.consistencyProof(req.from, req.to) });
        case 'inclusion':
          return ledgerResponse({ proof: l.inclusionProof(req.index, req.size) });
        case 'earned':
          return ledgerResponse({
            earned: this.#o
              .held()
              .slice(req.from, req.to)
              .map((h) => h.bundle),
          });
      }
    } catch (e) {
      return ledgerResponse({ error: errorText(e) });
    }
  }

  /** Answers the one request `peer` sends on `stream` (refused past the peer's rate); never
   * throws: a bad request is named and its stream aborted. */
  async serve(stream: Stream, peer: string): Promise<void> {
    if (!this.#limiter.admit(peer)) {
      trace('ledger requests from %s over %d/s: refused', peer, REQUEST_RATE);
      stream.abort(new Error('too many ledger requests'));
      return;
    }
    const framed = new Framed(stream, ANSWERER_CODEC);
    try {
      const req = await framed.read(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
      if (!isLedgerRequest(req)) throw new WireError('malformed', 'not a ledger request');
      await framed.write(this.answer(req));
      await framed.close();
    } catch (e) {
      if (e instanceof WireError) notice(`bad ledger request from ${peer}: ${e.message}`);
      trace('ledger stream from %s ended: %s', peer, describeStreamError(e));
      framed.abort(asStreamError(e));
    }
  }
}
