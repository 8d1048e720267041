import type { Message } from '@libp2p/gossipsub';
import type { Connection, Stream } from '@libp2p/interface';
import { logger } from '@libp2p/logger';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { TypedEventEmitter } from 'main-event';
import { DEFAULT_PRICE_PARAMS, epochOf, type MarketSample, type PriceParams } from '../jobs/price';
import type { JobBoard } from '../mesh/job-board';
import type { MeshNode } from '../mesh/node';
import { asStreamError, describeStreamError } from '../wire/stream-errors';
import { WireError } from '../wire/wire-error';
import { type Account, accounts, byCodeUnits, type CheckedLog, checkLog } from './audit';
import {
  CHECKPOINTS_TOPIC,
  decodeGossip,
  decodeRequest,
  decodeResponse,
  encodeGossip,
  encodeRequest,
  encodeResponse,
  LEDGER_PROTOCOL,
  type LedgerRequestMsg,
  type LedgerResponseMsg,
  MAX_PAGE,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
} from './codec';
import { type HeldReceipt, openBundle } from './entries';
import { LedgerError } from './errors';
import { DEFAULT_PARAMS, type Params, paramsFrom, type Tally, tally } from './governance';
import type { LocalLedger } from './local';
import type { OwnerLog } from './log';
import { sameHash, verifyConsistency } from './merkle';
import { cosign, noteOf, openCheckpoint, type SignedCheckpoint, signCheckpoint } from './note';
import { type MarketReport, PriceBook, type PriceQuote } from './price-book';
import type { LedgerStore } from './store';

const log = logger('tessel:ledger');

/** Two checkpoints of one log at one size with different roots, both signed by the log. */
export interface Equivocation {
  log: string;
  size: number;
  a: string;
  b: string;
  /** When this tab first held the proof (ms since the epoch). */
  at: number;
}

/** The price of one epoch, as every tab that saw its window computes it. */
export interface PricePoint {
  /** When the epoch began (ms since the Unix epoch): every tab's points share these times. */
  at: number;
  price: number; // credits per GFLOP
  /** Mean utilisation of the window it was computed from. */
  utilisation: number;
}

/** What an audit of one peer found. Amounts in µcredits. */
export interface AuditReport {
  peer: string;
  /** Its books from the logs that could be fetched and checked. */
  account: Account;
  /** Receipts it holds whose owner's log could not be fetched: proven by their bundles
   * (signature and inclusion proof), not yet counted in `account`. */
  proven: { count: number; credit: bigint };
  /** Each log consulted, and what was wrong with it, if anything. */
  logs: { peer: string; size: number; problem?: string }[];
  at: number;
}

export interface LedgerEvents {
  /** A checkpoint of a log was seen (this tab's own included) with its cosignatures. */
  checkpoint: CustomEvent<{ log: string; size: number; cosignatures: number }>;
  /** A log equivocated: its owner is quarantined and the proof kept. */
  equivocation: CustomEvent<Equivocation>;
  /** The price of a new epoch (one each PRICE_EPOCH_MS once the window has been seen). */
  price: CustomEvent<PricePoint>;
  /** The quote changed: a new epoch's price, or one more epoch of the window seen. */
  quote: CustomEvent<PriceQuote>;
  /** This tab's own books changed (a receipt earned or issued). */
  books: CustomEvent<void>;
}

export interface LedgerServiceOptions {
  node: MeshNode;
  ledger: LocalLedger;
  board: JobBoard;
  /** This tab's WebRTC address, gossiped so peers can ask it for proofs; a function for one
   * that changes (a relay went away and the tab reserved on another). */
  address: string | (() => string);
  /** Quarantines a peer mesh-wide in this tab (an equivocating log's owner). */
  quarantine: (peer: string, why: string) => void;
  /** This tab's market report: its speed while it contributes (else 0), whether it waits for
   * work, and the work left in its own announced jobs (GFLOP): the price's supply and demand. */
  supply: () => { gflops: number; idle: boolean; queuedGflop?: number };
  /** Told the parameters in force after each tally (to apply those the mesh uses). */
  onParams?: (p: Params) => void;
  /** Cosignatures a checkpoint needs before a receipt under it is marked verified. */
  quorum?: number; // default 1
  gossipMs?: number; // default 2_000
  /** Clock (ms since the Unix epoch), for tests. */
  now?: () => number;
}

const MAX_LOGS = 1024;
/** Price points kept for the chart: an hour of epochs. */
const PRICES_KEPT = 360;
const SIZES_KEPT = 32;
/** Ledger requests one peer may make at once, and per second after that (audits of a busy
 * contributor page through its entries: 16/s is 16,384 entries a second). */
const REQUEST_BURST = 64;
const REQUEST_RATE = 16;

/**
 * A tab's part in the market: it answers ledger requests for its log (checkpoints, entries,
 * proofs, the receipts it earned), gossips its checkpoints, witnesses others' (cosigning only
 * after a consistency proof from the last one it cosigned), turns two heads of one size into a
 * portable proof of equivocation, audits peers, and runs the price rule each epoch.
 */
export class LedgerService extends TypedEventEmitter<LedgerEvents> {
  readonly #o: LedgerServiceOptions;
  readonly #me: string;
  /** Per log: the checkpoints seen by size (bounded), for equivocation checks. */
  readonly #heads = new Map<string, Map<number, SignedCheckpoint>>();
  /** Per log: the checkpoint this tab last cosigned. */
  readonly #witnessed = new Map<string, SignedCheckpoint>();
  /** Per log: the newest checkpoint seen with at least `quorum` cosignatures. */
  readonly #trusted = new Map<string, SignedCheckpoint>();
  readonly #cosigning = new Set<string>();
  readonly #cosignedAt = new Map<string, number>();
  readonly #addrs = new Map<string, string>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #book: PriceBook;
  readonly equivocations = new Map<string, Equivocation>();
  /** The price of each epoch since this tab's window was complete (the last PRICES_KEPT). */
  readonly prices: PricePoint[] = [];
  params: Params = { ...DEFAULT_PARAMS };
  #quote: PriceQuote;
  #timers: ReturnType<typeof setInterval>[] = [];
  #epochTimer: ReturnType<typeof setTimeout> | undefined;
  #soon: ReturnType<typeof setTimeout> | undefined;
  readonly #onMessage = (evt: CustomEvent<Message>) => void this.#gossip(evt.detail);

  readonly #log: OwnerLog;
  readonly #store: LedgerStore;

  constructor(o: LedgerServiceOptions) {
    super();
    this.#o = o;
    this.#me = o.node.peerId.toString();
    if (o.ledger.peer !== this.#me) {
      throw new Error(`the ledger is ${o.ledger.peer}'s but the node is ${this.#me}`);
    }
    this.#log = o.ledger.log;
    this.#store = o.ledger.store;
    this.#book = new PriceBook({ startedAt: this.#now(), params: this.#priceParams() });
    this.#quote = this.#book.quote(this.#now());
    // A new head is gossiped soon, not once per receipt: a busy owner appends many a second.
    this.#log.onCheckpoint = () => {
      this.#soon ??= setTimeout(() => {
        this.#soon = undefined;
        void this.#publish();
      }, 250);
    };
  }

  get quorum(): number {
    return this.#o.quorum ?? 1;
  }

  /** Credits per GFLOP of the current epoch, or undefined while this tab is still measuring
   * (it has not yet seen the PRICE_WINDOW epochs the price is computed from). */
  get price(): number | undefined {
    return this.#quote.state === 'price' ? this.#quote.price : undefined;
  }

  /** The price with what it was computed from, or how much of the window has been seen. */
  get quote(): PriceQuote {
    return this.#quote;
  }

  async start(): Promise<void> {
    for (const n of await this.#store.allNotes()) {
      if (n.key.startsWith('witnessed/')) {
        const c = await openCheckpoint(n.note).catch(() => undefined);
        if (c) this.#witnessed.set(c.log, c);
      } else if (n.key.startsWith('equivocation/') && n.conflicting) {
        await this.#checkEquivocation(n.note, n.conflicting, false).catch(() => {});
      }
    }
    await this.#o.node.handle(LEDGER_PROTOCOL, (s, c) => this.#serve(s, c), {
      maxInboundStreams: 16,
    });
    const pubsub = this.#o.node.services.pubsub;
    pubsub.subscribe(CHECKPOINTS_TOPIC);
    pubsub.addEventListener('message', this.#onMessage);
    const gossipMs = this.#o.gossipMs ?? 2_000;
    this.#timers.push(setInterval(() => void this.#publish(), gossipMs));
    // Epochs count from now, when this tab starts hearing reports.
    this.#book = new PriceBook({ startedAt: this.#now(), params: this.#priceParams() });
    this.#quote = this.#book.quote(this.#now());
    this.#scheduleEpoch();
    void this.#publish();
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    clearTimeout(this.#soon);
    clearTimeout(this.#epochTimer);
    const pubsub = this.#o.node.services.pubsub;
    pubsub.removeEventListener('message', this.#onMessage);
    pubsub.unsubscribe(CHECKPOINTS_TOPIC);
    this.#log.onCheckpoint = undefined;
    await this.#o.node.unhandle(LEDGER_PROTOCOL);
  }

  /** The newest checkpoint of `peer`'s log seen with at least `quorum` cosignatures. */
  trusted(peer: string): SignedCheckpoint | undefined {
    return peer === this.#me ? this.#log.trusted(this.quorum) : this.#trusted.get(peer);
  }

  /** Receipts this tab earned, each with whether a trusted checkpoint covers it. */
  async earned(): Promise<{ held: (HeldReceipt & { trusted: boolean })[]; unproven: number }> {
    const { held, unproven } = this.#o.ledger.held();
    return {
      held: held.map((h) => {
        const t = this.trusted(h.receipt.owner);
        return { ...h, trusted: t !== undefined && t.size >= h.checkpoint.size };
      }),
      unproven,
    };
  }

  // ---- auditing ---------------------------------------------------------------------------------

  /**
   * Audits `peer`: fetches its log and the receipts it holds, then the logs of the owners who
   * paid it (at most `maxLogs`), checks each against its signed checkpoint and against the
   * receipts held, and computes its books from them. Never throws for a peer's fault: problems
   * are in the report.
   */
  async audit(peer: string, maxLogs = 16): Promise<AuditReport> {
    peerIdFromString(peer); // a RangeError for something that is not a peer id
    // Breadth first: the peer, the owners who paid it, the owners who paid them… An owner's
    // means include what it earned in other logs, so its payers' logs are needed too. Owners
    // found together are taken in peer-id order, so every auditor that is served the same
    // receipts consults the same logs when it stops at `maxLogs`.
    const held: HeldReceipt[] = [];
    const reports: AuditReport['logs'] = [];
    const checked: CheckedLog[] = [];
    const queue = [peer];
    const seen = new Set(queue);
    let mine: HeldReceipt[] = [];
    while (queue.length > 0 && reports.length < maxLogs) {
      const who = queue.shift() as string;
      try {
        const earned = await this.#earnedOf(who);
        if (who === peer) mine = earned;
        held.push(...earned);
        const found = new Set(earned.map((h) => h.receipt.owner).filter((o) => !seen.has(o)));
        for (const o of [...found].sort(byCodeUnits)) {
          seen.add(o);
          queue.push(o);
        }
        const c = await this.#fetchLog(
          who,
          held.filter((h) => h.receipt.owner === who),
        );
        checked.push(c);
        reports.push({ peer: who, size: c.size });
      } catch (e) {
        reports.push({ peer: who, size: 0, problem: errorOf(e) });
        if (e instanceof LedgerError && who !== peer) this.#misbehaved(who, e);
      }
    }
    // Exact µcredits: the grant is a votable parameter and may be fractional in credits.
    const grant = Math.round(this.params.grant * 1e6);
    const books = accounts(checked, { grant });
    const audited = new Set(checked.map((c) => c.peer));
    const outside = mine.filter((h) => !audited.has(h.receipt.owner));
    const account = books.get(peer) ?? {
      peer,
      earned: 0n,
      spent: 0n,
      burned: 0n,
      grant: BigInt(grant),
      balance: BigInt(grant),
      workGflop: 0,
      receiptsEarned: 0,
      receiptsIssued: 0,
      voided: [],
    };
    return {
      peer,
      account,
      proven: {
        count: outside.length,
        credit: outside.reduce((s, h) => s + BigInt(h.receipt.credit), 0n),
      },
      logs: reports,
      at: Date.now(),
    };
  }

  /** Every proposal in the logs of `peers` (and this tab's) and its tally; applies the result. */
  async governance(peers: readonly string[]): Promise<Tally[]> {
    const logs: CheckedLog[] = [];
    for (const p of new Set([this.#me, ...peers])) {
      try {
        logs.push(await this.#fetchLog(p, []));
      } catch (e) {
        log('governance: no log of %s: %s', p, e);
      }
    }
    // Weights use the default grant: the grant itself is a votable parameter. The order of
    // `logs` (this tab's own first) does not matter: tally() reads them in a canonical order.
    const t = tally(logs, { grant: DEFAULT_PARAMS.grant * 1e6 });
    this.params = paramsFrom(t);
    this.#o.onParams?.(this.params);
    return t;
  }

  /** Peers seen on the checkpoint topic (those whose books can be asked for). */
  knownPeers(): string[] {
    return [...this.#addrs.keys()];
  }

  async #earnedOf(peer: string): Promise<HeldReceipt[]> {
    if (peer === this.#me) return this.#o.ledger.held().held;
    const out: HeldReceipt[] = [];
    for (let from = 0; ; from += MAX_PAGE) {
      const r = await this.#ask(peer, { type: 'earned', from, to: from + MAX_PAGE });
      for (const b of r.earned) {
        try {
          const h = await openBundle(b, { contributor: peer });
          out.push(h);
        } catch (e) {
          log('%s holds a receipt that does not check: %s', peer, errorOf(e));
        }
      }
      if (r.earned.length < MAX_PAGE) return out;
    }
  }

  async #fetchLog(peer: string, held: readonly HeldReceipt[]): Promise<CheckedLog> {
    let note: string;
    let leaves: Uint8Array[];
    if (peer === this.#me) {
      note = this.#log.checkpoint();
      leaves = this.#log.entries(0, this.#log.size);
    } else {
      note = (await this.#ask(peer, { type: 'checkpoint' })).checkpoint;
      const c = await openCheckpoint(note, peer);
      leaves = [];
      while (leaves.length < c.size) {
        const to = Math.min(c.size, leaves.length + MAX_PAGE);
        const page = (await this.#ask(peer, { type: 'entries', from: leaves.length, to })).entries;
        if (page.length === 0) break;
        leaves.push(...page);
      }
    }
    const checkpoint = await openCheckpoint(note, peer);
    this.#see(checkpoint, note);
    const earlier = [...(this.#heads.get(peer)?.values() ?? [])];
    return checkLog({ peer, checkpoint, leaves }, held, earlier);
  }

  // ---- the protocol -----------------------------------------------------------------------------

  /** One request to `peer`'s ledger, tried up to three times on a fresh connection (the peer
   * may have reloaded, leaving a dead connection that a new dial would reuse). */
  async #ask(peer: string, req: LedgerRequestMsg): Promise<LedgerResponseMsg> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#askOnce(peer, req, attempt);
      } catch (e) {
        // A peer's answer that does not check is final; a dial or stream that failed is not
        // (WebRTC set-up through a busy relay times out now and then).
        if (e instanceof LedgerError || e instanceof WireError || attempt === 3) throw e;
        log('ledger request to %s failed (%s): redialing', peer, e);
        await this.#o.node.hangUp(peerIdFromString(peer)).catch(() => {});
      }
    }
  }

  async #askOnce(peer: string, req: LedgerRequestMsg, attempt: number): Promise<LedgerResponseMsg> {
    const id = peerIdFromString(peer);
    // A direct connection already open is used as it is; otherwise the peer's gossiped WebRTC
    // address is dialed (its SDP goes through the relay, the data does not). A retry dials the
    // peer id instead, so libp2p may try every address it knows (the gossiped one may be stale).
    const direct = this.#o.node.getConnections(id).some((c) => c.limits == null);
    const addr = this.#addrs.get(peer);
    const target: Multiaddr | typeof id =
      direct || !addr || attempt % 2 === 0 ? id : multiaddr(addr);
    // The dial's own timer is cleared once the stream is open: libp2p may keep a dial's signal
    // for the stream's life.
    const dial = new AbortController();
    const timer = setTimeout(() => dial.abort(new Error('ledger dial timed out')), 15_000);
    let stream: Stream;
    try {
      stream = await this.#o.node.dialProtocol(target, LEDGER_PROTOCOL, { signal: dial.signal });
    } finally {
      clearTimeout(timer);
    }
    const lp = lpStream(stream, { maxDataLength: MAX_RESPONSE_BYTES });
    try {
      await lp.write(encodeRequest(req));
      const res = decodeResponse(
        (await lp.read({ signal: AbortSignal.timeout(30_000) })).subarray(),
      );
      if (res.error) throw new LedgerError('unknown', `${peer}: ${res.error}`);
      return res;
    } finally {
      await stream.close().catch(() => stream.abort(new Error('close failed')));
    }
  }

  /** Takes one request from `peer`'s bucket (REQUEST_BURST, refilled at REQUEST_RATE per
   * second); false when it is empty. Ids are free, so the buckets kept are bounded too. */
  #admit(peer: string): boolean {
    const now = Date.now();
    const b = this.#buckets.get(peer) ?? { tokens: REQUEST_BURST, at: now };
    b.tokens = Math.min(REQUEST_BURST, b.tokens + ((now - b.at) / 1_000) * REQUEST_RATE);
    b.at = now;
    this.#buckets.delete(peer);
    this.#buckets.set(peer, b);
    if (this.#buckets.size > 1_024) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  async #serve(stream: Stream, conn: Connection) {
    const peer = conn.remotePeer.toString();
    if (!this.#admit(peer)) {
      log('ledger requests from %s over %d/s: refused', peer, REQUEST_RATE);
      stream.abort(new Error('too many ledger requests'));
      return;
    }
    const lp = lpStream(stream, { maxDataLength: MAX_REQUEST_BYTES });
    try {
      const req = decodeRequest(
        (await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray(),
      );
      await lp.write(await this.#answer(req));
      await stream.close();
    } catch (e) {
      if (e instanceof WireError)
        console.warn(`tessel: bad ledger request from ${peer}: ${e.message}`);
      log('ledger stream from %s ended: %s', peer, describeStreamError(e));
      stream.abort(asStreamError(e));
    }
  }

  async #answer(req: LedgerRequestMsg): Promise<Uint8Array> {
    const l = this.#log;
    try {
      switch (req.type) {
        case 'checkpoint':
          return encodeResponse({ checkpoint: l.checkpoint() });
        case 'entries':
          return encodeResponse({ entries: l.entries(req.from, Math.min(req.to, l.size)) });
        case 'consistency':
          return encodeResponse({ proof: l.consistencyProof(req.from, req.to) });
        case 'inclusion':
          return encodeResponse({ proof: l.inclusionProof(req.index, req.size) });
        case 'earned': {
          const { held } = this.#o.ledger.held();
          return encodeResponse({ earned: held.slice(req.from, req.to).map((h) => h.bundle) });
        }
      }
    } catch (e) {
      return encodeResponse({ error: errorOf(e) });
    }
  }

  // ---- gossip and witnessing --------------------------------------------------------------------

  async #publish(extra: { note?: string; conflicting?: string } = {}) {
    const s = this.#o.supply();
    const at = this.#now();
    const report = {
      gflops: Math.min(1e6, Math.max(0, s.gflops || 0)),
      idle: s.idle,
      queuedGflop: Math.min(1e9, Math.max(0, s.queuedGflop || 0)),
    };
    // Pubsub does not deliver a tab's own messages: its report is counted here, as sent.
    this.#book.add({ peer: this.#me, at, ...report }, at);
    try {
      await this.#o.node.services.pubsub.publish(
        CHECKPOINTS_TOPIC,
        encodeGossip({
          note: extra.note ?? this.#log.checkpoint(),
          conflicting: extra.conflicting ?? '',
          addr: typeof this.#o.address === 'string' ? this.#o.address : this.#o.address(),
          at,
          ...report,
        }),
      );
    } catch (e) {
      log('checkpoint not published: %s', e);
    }
  }

  async #gossip(msg: Message) {
    if (msg.topic !== CHECKPOINTS_TOPIC || msg.type !== 'signed') return;
    const from = msg.from.toString();
    try {
      const g = decodeGossip(msg.data);
      if (g.addr) this.#remember(this.#addrs, from, g.addr);
      this.report({
        peer: from,
        at: g.at,
        gflops: g.gflops,
        idle: g.idle,
        queuedGflop: g.queuedGflop,
      });
      if (g.conflicting) {
        await this.#checkEquivocation(g.note, g.conflicting, true);
        return;
      }
      const c = await openCheckpoint(g.note);
      if (c.log === this.#me) {
        if (c.cosignatures.length > 0) await this.#log.addCosignatures(g.note).catch(() => {});
        return;
      }
      await this.#observe(c, g.note);
    } catch (e) {
      if (e instanceof WireError || e instanceof LedgerError) {
        console.warn(`tessel: bad checkpoint gossip from ${from}: ${e.message}`);
      } else {
        log('gossip from %s: %s', from, e);
      }
    }
  }

  /** A checkpoint of another log: equivocation check, trust, then witnessing. */
  async #observe(c: SignedCheckpoint, note: string) {
    if (!(await this.#see(c, note))) return;
    if (c.cosignatures.length >= this.quorum) {
      const t = this.#trusted.get(c.log);
      if (!t || c.size >= t.size) this.#trusted.set(c.log, c);
    }
    this.dispatchEvent(
      new CustomEvent('checkpoint', {
        detail: { log: c.log, size: c.size, cosignatures: c.cosignatures.length },
      }),
    );
    await this.#witness(c);
  }

  /** Records a checkpoint; false (and an equivocation) when it conflicts with one seen. */
  async #see(c: SignedCheckpoint, note: string): Promise<boolean> {
    if (this.equivocations.has(c.log)) return false;
    const sizes = this.#heads.get(c.log) ?? new Map<number, SignedCheckpoint>();
    const before = sizes.get(c.size);
    if (before && !sameHash(before.root, c.root)) {
      await this.#checkEquivocation(noteOf(before), note, true);
      return false;
    }
    sizes.set(c.size, before && before.cosignatures.length > c.cosignatures.length ? before : c);
    if (sizes.size > SIZES_KEPT) sizes.delete(Math.min(...sizes.keys()));
    this.#remember(this.#heads, c.log, sizes);
    return true;
  }

  /** Cosigns a checkpoint newer than the last one cosigned, once consistency is proven. */
  async #witness(c: SignedCheckpoint) {
    const last = this.#witnessed.get(c.log);
    if (c.size === 0 || c.cosignatures.some((s) => s.witness === this.#me)) return;
    if (last && c.size <= last.size) return;
    if (this.#cosigning.has(c.log)) return;
    // At most one cosignature per log per gossip round: a busy owner's head moves many times a
    // second, and the owner gossips its latest head every round anyway.
    const now = Date.now();
    if (now - (this.#cosignedAt.get(c.log) ?? 0) < (this.#o.gossipMs ?? 2_000)) return;
    this.#remember(this.#cosignedAt, c.log, now);
    this.#cosigning.add(c.log);
    try {
      if (last && last.size > 0) {
        const proof = (await this.#ask(c.log, { type: 'consistency', from: last.size, to: c.size }))
          .proof;
        try {
          verifyConsistency(last.size, c.size, proof, last.root, c.root);
        } catch (e) {
          // The log cannot show its new head extends the one this tab vouched for.
          this.#misbehaved(c.log, e as LedgerError);
          return;
        }
      }
      const time = Math.floor(Date.now() / 1000);
      const line = await cosign(this.#log.key, this.#me, c.body, time);
      const mine = noteOf(c, [{ witness: this.#me, time, line }]);
      this.#witnessed.set(c.log, c);
      await this.#store.putNote(`witnessed/${c.log}`, noteOf(c));
      await this.#publish({ note: mine });
    } catch (e) {
      log('did not cosign %s at %d: %s', c.log, c.size, e);
    } finally {
      this.#cosigning.delete(c.log);
    }
  }

  /** Checks a claimed proof of equivocation; if it holds, quarantines the log's owner. */
  async #checkEquivocation(a: string, b: string, spread: boolean) {
    const x = await openCheckpoint(a);
    const y = await openCheckpoint(b, x.log);
    if (x.size !== y.size || sameHash(x.root, y.root)) {
      throw new LedgerError('equivocation', 'not a proof: different sizes or the same root');
    }
    if (this.equivocations.has(x.log)) return;
    if (x.log === this.#me) {
      console.error(
        'tessel: two heads of this tab’s own log are signed with its key: is the key copied?',
      );
      return;
    }
    const proof: Equivocation = {
      log: x.log,
      size: x.size,
      a: noteOf(x),
      b: noteOf(y),
      at: Date.now(),
    };
    this.equivocations.set(x.log, proof);
    console.warn(`tessel: log of ${x.log} equivocated at size ${x.size}: quarantined`);
    this.#o.quarantine(x.log, `equivocated at size ${x.size}`);
    await this.#store.putNote(`equivocation/${x.log}`, proof.a, proof.b);
    this.dispatchEvent(new CustomEvent('equivocation', { detail: proof }));
    if (spread) await this.#publish({ note: proof.a, conflicting: proof.b });
  }

  #misbehaved(peer: string, e: Error) {
    console.warn(`tessel: the log of ${peer} failed a check: ${e.message}`);
  }

  /**
   * Test hook: this tab signs a second checkpoint at its current size with another root and
   * gossips it, as an owner showing different books to different peers would.
   */
  async equivocate(): Promise<void> {
    const l = this.#log;
    const root = crypto.getRandomValues(new Uint8Array(32));
    await this.#publish({ note: await signCheckpoint(l.key, this.#me, l.size, root) });
  }

  // ---- prices -----------------------------------------------------------------------------------

  /**
   * Counts a peer's signed market report (its gossip), bucketed by its signer's time; false
   * when refused (a time too far from now, an epoch already closed, a full epoch). Public so
   * that tests can feed a service the reports another tab saw.
   */
  report(r: MarketReport): boolean {
    if (r.peer === this.#me) return false; // only what this tab itself sent counts as its own
    const why = this.#book.add(r, this.#now());
    if (why) log('market report of %s at %d refused: %s', r.peer, r.at, why);
    return why === undefined;
  }

  /** What the mesh reported in the current epoch so far (for estimates; the price uses whole
   * epochs only). */
  sample(): MarketSample {
    return this.#book.sample(epochOf(this.#now(), this.#book.epochMs));
  }

  /** Recomputes the price now: a new epoch's, or the same one with new parameters. */
  reprice(): PriceQuote {
    this.#book.params = this.#priceParams();
    const before = this.#quote;
    const q = this.#book.quote(this.#now());
    this.#quote = q;
    if (q.state === 'price' && (before.state !== 'price' || before.epoch !== q.epoch)) {
      const point = {
        at: q.epoch * this.#book.epochMs,
        price: q.price,
        utilisation: q.utilisation,
      };
      this.prices.push(point);
      if (this.prices.length > PRICES_KEPT) this.prices.shift();
      this.dispatchEvent(new CustomEvent('price', { detail: point }));
    }
    if (JSON.stringify(q) !== JSON.stringify(before)) {
      this.dispatchEvent(new CustomEvent('quote', { detail: q }));
    }
    return q;
  }

  /** Reprices when each epoch closes: at the same wall-clock moment in every tab. */
  #scheduleEpoch() {
    const now = this.#now();
    this.#epochTimer = setTimeout(
      () => {
        this.reprice();
        this.#scheduleEpoch();
      },
      Math.max(10, this.#book.nextChange(now) - now),
    );
  }

  #priceParams(): PriceParams {
    return {
      ...DEFAULT_PRICE_PARAMS,
      target: this.params.priceTarget,
      step: this.params.priceStep,
    };
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /** Bounded maps: peer ids are free to make. */
  #remember<V>(map: Map<string, V>, key: string, value: V) {
    map.delete(key);
    map.set(key, value);
    if (map.size > MAX_LOGS) map.delete(map.keys().next().value as string);
  }
}

function errorOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
