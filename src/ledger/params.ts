// The votable mesh parameters, without dependencies, so a page can show them before it loads the
// ledger's cryptography. Tallying: governance.ts.

/** The votable mesh parameters: default, bounds, and what each means. */
export const PARAMS = {
  priceTarget: {
    default: 0.5,
    min: 0.1,
    max: 0.9,
    about:
      'utilisation (queued work ÷ what contributors do in an epoch) at which the price is START_PRICE',
  },
  priceStep: {
    default: 0.125,
    min: 0.01,
    max: 0.25,
    about: 'how strongly the price follows utilisation: its exponent is priceStep ÷ 0.125',
  },
  canaryRate: {
    default: 1 / 16,
    min: 0,
    max: 0.5,
    about: 'default share of canary shards in logits inference jobs',
  },
  quarantineBelow: {
    default: -15,
    min: -50,
    max: -5,
    about: 'reputation score at which a peer is quarantined',
  },
  grant: {
    default: 10,
    min: 0,
    max: 100,
    about: 'credits a new peer may spend before it has earned',
  },
} as const;

export type Param = keyof typeof PARAMS;
export type Params = Record<Param, number>;

export const DEFAULT_PARAMS: Params = Object.fromEntries(
  Object.entries(PARAMS).map(([k, v]) => [k, v.default]),
) as Params;

/**
 * Total weight of "yes" votes a proposal needs, besides outweighing "no": 100 // credits held
 * beyond the grant (governance.ts `weight`), ten default grants.
 */
export const QUORUM = 100;
