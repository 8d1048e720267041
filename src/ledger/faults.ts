import type { OwnerLog } from './log';
import { signCheckpoint } from './note';
import type { LedgerService } from './service';

// Fault injection for tests (e2e pages under ?faults, integration suites): what an owner that
// cheats would do, kept out of the production classes. The service registers the one part of
// itself a fault needs (gossiping a head); nothing else reaches it.

/** What a fault may use of a service: its log and its gossip of a head. */
export interface FaultParts {
  me: string;
  log: Pick<OwnerLog, 'key' | 'size'>;
  /** Gossips `note` as this tab's head. */
  gossip: (note: string) => Promise<void>;
}

const PARTS = new WeakMap<LedgerService, FaultParts>();

/** Called by LedgerService's constructor only. */
export function registerFaultParts(service: LedgerService, parts: FaultParts): void {
  PARTS.set(service, parts);
}

/** The faults a test may inject into a ledger service. */
export interface LedgerFaults {
  /** This tab signs a second checkpoint at its current size with another root and gossips it,
   * as an owner showing different books to different peers would: every peer that saw the
   * true head holds a proof of equivocation and quarantines it. */
  equivocate(): Promise<void>;
}

export function ledgerFaults(service: LedgerService): LedgerFaults {
  const parts = PARTS.get(service);
  if (!parts) throw new Error('not a started LedgerService');
  return {
    async equivocate() {
      const root = crypto.getRandomValues(new Uint8Array(32));
      await parts.gossip(await signCheckpoint(parts.log.key, parts.me, parts.log.size, root));
    },
  };
}
