import { TypedEventEmitter } from 'main-event';
import type { MarketSample } from '../jobs/price';
import { Auditor, type AuditReport } from './auditor';
import { LedgerClient } from './client';
import type { GossipMsg } from './codec';
import type { LedgerNode } from './components';
import type { HeldReceipt } from './entries';
import { registerFaultParts } from './faults';
import { CheckpointTopic } from './gossip';
import { DEFAULT_PARAMS, type Params, paramsFrom, type Tally } from './governance';
import type { LocalLedger } from './local';
import { openCheckpoint, type SignedCheckpoint } from './note';
import type { MarketReport, PriceQuote } from './price-book';
import { PriceOracle, type PricePoint, type SupplyAndDemand } from './price-oracle';
import { LogServer } from './server';
import { type CheckpointSeen, type Equivocation, Witness } from './witness';

export type { AuditReport, Equivocation, PricePoint, SupplyAndDemand };

/** Cosignatures a checkpoint needs before a receipt under it is marked verified. */
export const DEFAULT_QUORUM = 1;
/** How often this tab gossips its head and market report. */
export const DEFAULT_GOSSIP_MS = 2_000; // ms
/** How soon a new head of this tab's log is gossiped (heads that come faster are batched). */
const HEAD_GOSSIP_DELAY_MS = 250; // ms

export interface LedgerEvents {
  /** A checkpoint of another log was seen with its cosignatures. */
  checkpoint: CustomEvent<CheckpointSeen>;
  /** A log equivocated: its owner is quarantined and the proof kept. */
  equivocation: CustomEvent<Equivocation>;
  /** The price of a new epoch (one each PRICE_EPOCH_MS once the window has been seen). */
  price: CustomEvent<PricePoint>;
  /** The quote changed: a new epoch's price, or one more epoch of the window seen. */
  quote: CustomEvent<PriceQuote>;
  /** A tally changed the parameters in force. */
  params: CustomEvent<Params>;
}

/** The market as this tab sees it, for views: read after any event. */
export interface LedgerSnapshot {
  peer: string;
  quorum: number;
  /** The votable parameters in force. */
  params: Params;
  quote: PriceQuote;
  /** Credits per GFLOP of the current epoch; undefined while measuring. */
  price: number | undefined;
  prices: readonly PricePoint[];
  equivocations: readonly Equivocation[];
  /** Peers that gossiped an address: those an audit or tally can ask. */
  knownPeers: readonly string[];
}

export interface LedgerServiceOptions {
  /** The libp2p node's parts the market uses (a MeshNode is one). */
  node: LedgerNode;
  ledger: LocalLedger;
  /** This tab's WebRTC address, gossiped so peers can ask it for proofs; a function for one
   * that changes (a relay went away and the tab reserved on another). */
  address: string | (() => string);
  /** Quarantines a peer mesh-wide in this tab (an equivocating log's owner). */
  quarantine: (peer: string, why: string) => void;
  /** This tab's market report: its speed while it contributes (else 0), whether it waits for
   * work, and the work left in its own announced jobs (GFLOP): the price's supply and demand. */
  supply: () => SupplyAndDemand;
  /** Told the parameters in force after each tally (to apply those the mesh uses). */
  onParams?: (p: Params) => void;
  /** Cosignatures a checkpoint needs before a receipt under it is marked verified. */
  quorum?: number; // default DEFAULT_QUORUM
  gossipMs?: number; // ms, default DEFAULT_GOSSIP_MS
  /** Clock (ms since the Unix epoch), for tests. */
  now?: () => number;
}

/**
 * A tab's part in the market, the facade over its roles (after trillian-tessera's shape): the
 * log server answers requests for this tab's log; the client asks peers'; the checkpoint topic
 * gossips heads and market reports; the witness tracks others' heads, cosigns them and proves
 * equivocation; the auditor checks books and tallies votes; the price oracle prices each epoch.
 */
export class LedgerService extends TypedEventEmitter<LedgerEvents> {
  readonly #o: LedgerServiceOptions;
  readonly #me: string;
  readonly #ledger: LocalLedger;
  readonly #server: LogServer;
  readonly #client: LedgerClient;
  readonly #topic: CheckpointTopic;
  readonly #witness: Witness;
  readonly #auditor: Auditor;
  readonly #oracle: PriceOracle;
  #params: Params = { ...DEFAULT_PARAMS };
  #timer: ReturnType<typeof setInterval> | undefined;
  #soon: ReturnType<typeof setTimeout> | undefined;

  constructor(o: LedgerServiceOptions) {
    super();
    this.#o = o;
    const me = o.node.peerId.toString();
    this.#me = me;
    if (o.ledger.peer !== me) {
      throw new Error(`the ledger is ${o.ledger.peer}'s but the node is ${me}`);
    }
    const ledger = o.ledger;
    this.#ledger = ledger;
    const held = () => ledger.held().held;
    this.#server = new LogServer({ registrar: o.node }, { log: ledger.log, held });
    this.#client = new LedgerClient({ dialer: o.node });
    this.#topic = new CheckpointTopic({ pubsub: o.node.services.pubsub });
    this.#witness = new Witness({
      me,
      key: ledger.log.key,
      store: ledger.store,
      consistency: (log, from, to) => this.#client.consistency(log, from, to),
      publish: (note, conflicting) => this.#publish({ note, conflicting }),
      quarantine: o.quarantine,
      quorum: this.quorum,
      cosignEveryMs: this.#gossipMs,
    });
    this.#auditor = new Auditor({
      me,
      log: ledger.log,
      held,
      client: this.#client,
      witness: this.#witness,
    });
    this.#oracle = new PriceOracle({
      me,
      demand: () => o.supply(),
      params: () => this.#params,
      now: () => this.#now(),
    });
    // The parts' events, told again by the facade (views and callers listen here).
    const w = this.#witness;
    w.addEventListener('checkpoint', (e) =>
      this.safeDispatchEvent('checkpoint', { detail: e.detail }),
    );
    w.addEventListener('equivocation', (e) =>
      this.safeDispatchEvent('equivocation', { detail: e.detail }),
    );
    this.#oracle.addEventListener('price', (e) =>
      this.safeDispatchEvent('price', { detail: e.detail }),
    );
    this.#oracle.addEventListener('quote', (e) =>
      this.safeDispatchEvent('quote', { detail: e.detail }),
    );
    registerFaultParts(this, { me, log: ledger.log, gossip: (note) => this.#publish({ note }) });
  }

  get quorum(): number {
    return this.#o.quorum ?? DEFAULT_QUORUM;
  }

  /** The votable parameters in force (the defaults until a tally passes a proposal). */
  get params(): Params {
    return this.#params;
  }

  /** Credits per GFLOP of the current epoch, or undefined while this tab is still measuring
   * (it has not yet seen the PRICE_WINDOW epochs the price is computed from). */
  get price(): number | undefined {
    const q = this.#oracle.quote;
    return q.state === 'price' ? q.price : undefined;
  }

  /** The price with what it was computed from, or how much of the window has been seen. */
  get quote(): PriceQuote {
    return this.#oracle.quote;
  }

  /** The price of each epoch since this tab's window was complete (the last PRICES_KEPT). */
  get prices(): readonly PricePoint[] {
    return this.#oracle.prices;
  }

  /** Proofs of equivocation held, by log. */
  get equivocations(): ReadonlyMap<string, Equivocation> {
    return this.#witness.equivocations;
  }

  /** The market as this tab sees it now (a copy: views keep it as state). */
  snapshot(): LedgerSnapshot {
    return {
      peer: this.#me,
      quorum: this.quorum,
      params: { ...this.#params },
      quote: this.quote,
      price: this.price,
      prices: [...this.prices],
      equivocations: [...this.equivocations.values()],
      knownPeers: this.knownPeers(),
    };
  }

  async start(): Promise<void> {
    await this.#witness.load();
    await this.#server.start();
    this.#topic.start((from, g) => this.#heard(from, g));
    this.#timer = setInterval(() => void this.#publish(), this.#gossipMs);
    // A new head is gossiped soon, not once per receipt: a busy owner appends many a second.
    this.#ledger.log.onCheckpoint = () => {
      this.#soon ??= setTimeout(() => {
        this.#soon = undefined;
        void this.#publish();
      }, HEAD_GOSSIP_DELAY_MS);
    };
    // Epochs count from now, when this tab starts hearing reports.
    this.#oracle.start();
    void this.#publish();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#soon);
    this.#oracle.stop();
    this.#topic.stop();
    this.#ledger.log.onCheckpoint = undefined;
    await this.#server.stop();
  }

  /** The newest checkpoint of `peer`'s log seen with at least `quorum` cosignatures. */
  trusted(peer: string): SignedCheckpoint | undefined {
    return peer === this.#me ? this.#ledger.log.trusted(this.quorum) : this.#witness.trusted(peer);
  }

  /** Receipts this tab earned, each with whether a trusted checkpoint covers it. */
  async earned(): Promise<{ held: (HeldReceipt & { trusted: boolean })[]; unproven: number }> {
    const { held, unproven } = this.#ledger.held();
    return {
      held: held.map((h) => {
        const t = this.trusted(h.receipt.owner);
        return { ...h, trusted: t !== undefined && t.size >= h.checkpoint.size };
      }),
      unproven,
    };
  }

  /** Audits `peer` (see Auditor.audit) with the starter grant in force. */
  audit(peer: string, maxLogs?: number): Promise<AuditReport> {
    // Exact µcredits: the grant is a votable parameter and may be fractional in credits.
    return this.#auditor.audit(peer, Math.round(this.#params.grant * 1e6), maxLogs);
  }

  /** Every proposal in the logs of `peers` (and this tab's) and its tally; applies the result. */
  async governance(peers: readonly string[]): Promise<Tally[]> {
    const t = await this.#auditor.governance(peers);
    this.#params = paramsFrom(t);
    this.#o.onParams?.(this.#params);
    this.safeDispatchEvent('params', { detail: this.#params });
    return t;
  }

  /** Peers seen on the checkpoint topic (those whose books can be asked for). */
  knownPeers(): string[] {
    return this.#client.knownPeers();
  }

  /**
   * Counts a peer's signed market report (its gossip), bucketed by its signer's time; false
   * when refused (a time too far from now, an epoch already closed, a full epoch). Public so
   * that tests can feed a service the reports another tab saw.
   */
  report(r: MarketReport): boolean {
    return this.#oracle.report(r);
  }

  /** What the mesh reported in the current epoch so far (for estimates; the price uses whole
   * epochs only). */
  sample(): MarketSample {
    return this.#oracle.sample();
  }

  /** Recomputes the price now: a new epoch's, or the same one with new parameters. */
  reprice(): PriceQuote {
    return this.#oracle.reprice();
  }

  /** Gossips this tab's head (or `note`, a cosignature or proof) with its market report. */
  async #publish(extra: { note?: string; conflicting?: string } = {}) {
    const at = this.#now();
    const figures = this.#oracle.own(at);
    const address = this.#o.address;
    await this.#topic.publish({
      note: extra.note ?? this.#ledger.log.checkpoint(),
      conflicting: extra.conflicting ?? '',
      addr: typeof address === 'string' ? address : address(),
      at,
      ...figures,
    });
  }

  /** One peer's gossip: its address and report, then the head, cosignature or proof it carries. */
  async #heard(from: string, g: GossipMsg) {
    if (g.addr) this.#client.remember(from, g.addr);
    this.#oracle.report({
      peer: from,
      at: g.at,
      gflops: g.gflops,
      idle: g.idle,
      queuedGflop: g.queuedGflop,
    });
    if (g.conflicting) {
      await this.#witness.checkEquivocation(g.note, g.conflicting, true);
      return;
    }
    const c = await openCheckpoint(g.note);
    if (c.log === this.#me) {
      // Another tab's cosignature of this tab's head.
      if (c.cosignatures.length > 0) await this.#ledger.log.addCosignatures(g.note).catch(() => {});
      return;
    }
    await this.#witness.observe(c, g.note);
  }

  get #gossipMs(): number {
    return this.#o.gossipMs ?? DEFAULT_GOSSIP_MS;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }
}
