/**
 * How long one dial to a peer may take, per address: a WebRTC dial is a relayed SDP exchange,
 * ICE, DTLS and noise, and on a busy 2-core machine with several tabs computing that took more
 * than libp2p's 6 s default (contributors missed whole jobs). The contributor's dial timer
 * and the ledger client's use the same figure.
 */
export const DIAL_TIMEOUT_MS = 15_000; // ms
