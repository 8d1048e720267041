import type { Message } from '@libp2p/gossipsub';
import { log, notice } from '../log/log';
import { WireError } from '../wire/wire-error';
import { CHECKPOINTS_TOPIC, decodeGossip, encodeGossip, type GossipMsg } from './codec';
import type { CheckpointPubSub } from './components';
import { LedgerError } from './errors';

const trace = log('ledger:gossip');

/** What to do with one peer's gossip (already decoded and validated). Throwing a WireError or
 * LedgerError names the peer's gossip as bad to the person at this tab. */
export type GossipHandler = (from: string, g: GossipMsg) => Promise<void>;

/**
 * The checkpoint topic: every tab gossips its log's head, its cosignatures of others' heads and
 * proofs of equivocation there, with its address and market report. Only signed messages are
 * heard (the signer is the peer the gossip speaks for).
 */
export class CheckpointTopic {
  readonly #pubsub: CheckpointPubSub;
  #handler: GossipHandler | undefined;
  readonly #onMessage = (evt: CustomEvent<Message>) => void this.#heard(evt.detail);

  constructor(components: { pubsub: CheckpointPubSub }) {
    this.#pubsub = components.pubsub;
  }

  /** Subscribes; each valid message from a peer goes to `handler`. */
  start(handler: GossipHandler): void {
    this.#handler = handler;
    this.#pubsub.subscribe(CHECKPOINTS_TOPIC);
    this.#pubsub.addEventListener('message', this.#onMessage);
  }

  stop(): void {
    this.#pubsub.removeEventListener('message', this.#onMessage);
    this.#pubsub.unsubscribe(CHECKPOINTS_TOPIC);
    this.#handler = undefined;
  }

  /** Gossips one message; a failure (no peer subscribed yet) is only traced: the head is
   * gossiped again next round. */
  async publish(g: GossipMsg): Promise<void> {
    try {
      await this.#pubsub.publish(CHECKPOINTS_TOPIC, encodeGossip(g));
    } catch (e) {
      trace('checkpoint not published: %s', e);
    }
  }

  async #heard(msg: Message) {
    if (msg.topic !== CHECKPOINTS_TOPIC || msg.type !== 'signed') return;
    const from = msg.from.toString();
    try {
      await this.#handler?.(from, decodeGossip(msg.data));
    } catch (e) {
      if (e instanceof WireError || e instanceof LedgerError) {
        notice(`bad checkpoint gossip from ${from}: ${e.message}`);
      } else {
        trace('gossip from %s: %s', from, e);
      }
    }
  }
}
