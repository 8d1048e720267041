import { multiaddr } from '@multiformats/multiaddr';
import type { MeshConfig } from './mesh';

/** A config value that cannot be used; `field` says which. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Relays a config may list (a tab connects to all of them). */
export const MAX_RELAYS = 16;

/**
 * Validates a mesh config (a page's /config.json or URL, an embed's attributes, the headless
 * contributor's flags). `relays` is a list of multiaddrs ending in /p2p/<peer id> (`relay`, one
 * of them, is still read); `iceServers` an array of { urls, username?, credential? }.
 */
export function parseMeshConfig(raw: unknown): MeshConfig {
  if (typeof raw !== 'object' || raw === null)
    throw new ConfigError('config', 'expected an object');
  const {
    relay,
    relays: listed,
    iceServers = [],
  } = raw as { relay?: unknown; relays?: unknown; iceServers?: unknown };
  const field = listed === undefined ? 'relay' : 'relays';
  const relays = listed === undefined ? (relay === undefined ? [] : [relay]) : listed;
  if (!Array.isArray(relays) || relays.length === 0 || relays.length > MAX_RELAYS) {
    throw new ConfigError(field, `expected 1 to ${MAX_RELAYS} relay multiaddrs`);
  }
  for (const [i, r] of (relays as unknown[]).entries()) {
    checkRelayAddr(r, field === 'relay' ? field : `relays[${i}]`);
  }
  if (!Array.isArray(iceServers) || iceServers.length > 16) {
    throw new ConfigError('iceServers', 'expected an array of at most 16 servers');
  }
  iceServers.forEach((s: unknown, i) => {
    const urls = (s as { urls?: unknown })?.urls;
    const ok =
      typeof urls === 'string' ||
      (Array.isArray(urls) && urls.length > 0 && urls.every((u) => typeof u === 'string'));
    if (!ok || !/^(stun|turns?):/.test(([] as unknown[]).concat(urls)[0] as string)) {
      throw new ConfigError(`iceServers[${i}]`, 'urls must be stun:, turn: or turns: URLs');
    }
  });
  return { relays: [...new Set(relays as string[])], iceServers: iceServers as RTCIceServer[] };
}

function checkRelayAddr(relay: unknown, field: string): asserts relay is string {
  if (typeof relay !== 'string' || relay.length > 1024) {
    throw new ConfigError(field, 'expected a multiaddr string');
  }
  try {
    const ma = multiaddr(relay);
    if (!ma.toString().includes('/p2p/')) throw new Error('it does not end in /p2p/<peer id>');
  } catch (e) {
    throw new ConfigError(field, `not a relay multiaddr (${(e as Error).message})`);
  }
}
