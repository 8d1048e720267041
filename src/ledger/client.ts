import type { Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { log } from '../log/log';
import { DIAL_TIMEOUT_MS } from '../wire/dial';
import { errorText } from '../wire/fields';
import { Framed } from '../wire/framed';
import { WireError } from '../wire/wire-error';
import {
  ASKER_CODEC,
  isLedgerRequest,
  LEDGER_PROTOCOL,
  type LedgerRequestMsg,
  type LedgerResponseMsg,
  MAX_PAGE,
} from './codec';
import type { LedgerDialer } from './components';
import { type HeldReceipt, openBundle } from './entries';
import { LedgerError } from './errors';
import { openCheckpoint } from './note';

const trace = log('ledger:client');

/** Tries of one request, each on a fresh connection after the first fails. */
export const ASK_ATTEMPTS = 3;
/** How long a peer may take to answer once asked. */
const ANSWER_TIMEOUT_MS = 30_000; // ms
/** Peers whose gossiped addresses are kept: ids are free to make. */
const ADDRESSES_KEPT = 1_024;

/** A peer's log as it served it: its signed checkpoint note and the leaves under it. */
export interface FetchedLog {
  note: string;
  leaves: Uint8Array[];
}

/**
 * Asks other peers' log servers (a tessera client): one request per stream, redialed on a
 * fresh connection when a dial or stream fails, and the paged fetches built on it (a whole log,
 * the receipts a peer earned). Also keeps the WebRTC address each peer gossiped, so a peer
 * known only through the relay can be dialed.
 */
export class LedgerClient {
  readonly #dialer: LedgerDialer;
  readonly #addrs = new Map<string, string>();

  constructor(components: { dialer: LedgerDialer }) {
    this.#dialer = components.dialer;
  }

  /** Notes the address `peer` gossiped (the newest wins; the oldest peers are forgotten). */
  remember(peer: string, addr: string): void {
    this.#addrs.delete(peer);
    this.#addrs.set(peer, addr);
    if (this.#addrs.size > ADDRESSES_KEPT) {
      const oldest = this.#addrs.keys().next().value;
      if (oldest !== undefined) this.#addrs.delete(oldest);
    }
  }

  /** Peers that gossiped an address (those whose books can be asked for). */
  knownPeers(): string[] {
    return [...this.#addrs.keys()];
  }

  /** One request to `peer`'s ledger, tried up to ASK_ATTEMPTS times on a fresh connection (the
   * peer may have reloaded, leaving a dead connection that a new dial would reuse). */
  async ask(peer: string, req: LedgerRequestMsg): Promise<LedgerResponseMsg> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#askOnce(peer, req, attempt);
      } catch (e) {
        // A peer's answer that does not check is final; a dial or stream that failed is not
        // (WebRTC set-up through a busy relay times out now and then).
        if (e instanceof LedgerError || e instanceof WireError || attempt === ASK_ATTEMPTS) throw e;
        trace('ledger request to %s failed (%s): redialing', peer, e);
        await this.#dialer.hangUp(peerIdFromString(peer)).catch(() => {});
      }
    }
  }

  /** A consistency proof of `peer`'s log from size `from` to size `to`. */
  async consistency(peer: string, from: number, to: number): Promise<Uint8Array[]> {
    return (await this.ask(peer, { type: 'consistency', from, to })).proof;
  }

  /** `peer`'s whole log: its checkpoint, then its entries page by page (unchecked: the caller
   * checks them against the checkpoint). */
  async log(peer: string): Promise<FetchedLog> {
    const note = (await this.ask(peer, { type: 'checkpoint' })).checkpoint;
    const c = await openCheckpoint(note, peer);
    const leaves: Uint8Array[] = [];
    while (leaves.length < c.size) {
      const to = Math.min(c.size, leaves.length + MAX_PAGE);
      const page = (await this.ask(peer, { type: 'entries', from: leaves.length, to })).entries;
      if (page.length === 0) break;
      leaves.push(...page);
    }
    return { note, leaves };
  }

  /** The receipts `peer` holds, each of whose bundle checks (the others are left out). */
  async earned(peer: string): Promise<HeldReceipt[]> {
    const out: HeldReceipt[] = [];
    for (let from = 0; ; from += MAX_PAGE) {
      const r = await this.ask(peer, { type: 'earned', from, to: from + MAX_PAGE });
      for (const b of r.earned) {
        try {
          out.push(await openBundle(b, { contributor: peer }));
        } catch (e) {
          trace('%s holds a receipt that does not check: %s', peer, errorText(e));
        }
      }
      if (r.earned.length < MAX_PAGE) return out;
    }
  }

  async #askOnce(peer: string, req: LedgerRequestMsg, attempt: number): Promise<LedgerResponseMsg> {
    const id = peerIdFromString(peer);
    // A direct connection already open is used as it is; otherwise the peer's gossiped WebRTC
    // address is dialed (its SDP goes through the relay, the data does not). A retry dials the
    // peer id instead, so libp2p may try every address it knows (the gossiped one may be stale).
    const direct = this.#dialer.getConnections(id).some((c) => c.limits == null);
    const addr = this.#addrs.get(peer);
    const target: Multiaddr | typeof id =
      direct || !addr || attempt % 2 === 0 ? id : multiaddr(addr);
    // The dial's own timer is cleared once the stream is open: libp2p may keep a dial's signal
    // for the stream's life.
    const dial = new AbortController();
    const timer = setTimeout(() => dial.abort(new Error('ledger dial timed out')), DIAL_TIMEOUT_MS);
    let stream: Stream;
    try {
      stream = await this.#dialer.dialProtocol(target, LEDGER_PROTOCOL, { signal: dial.signal });
    } finally {
      clearTimeout(timer);
    }
    const framed = new Framed(stream, ASKER_CODEC);
    try {
      await framed.write(req);
      const res = await framed.read(AbortSignal.timeout(ANSWER_TIMEOUT_MS));
      if (isLedgerRequest(res)) throw new WireError('malformed', 'not a ledger response');
      if (res.error) throw new LedgerError('unknown', `${peer}: ${res.error}`);
      return res;
    } finally {
      await framed.close();
    }
  }
}
