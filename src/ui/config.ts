import { multiaddr } from '@multiformats/multiaddr';
import type { MeshConfig } from '../mesh/mesh';

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

/**
 * Validates a mesh config from /config.json (written by `npm start`) or the page URL.
 * `relay` must be a multiaddr ending in /p2p/<peer id>; `iceServers` an array of
 * { urls, username?, credential? }.
 */
export function parseMeshConfig(raw: unknown): MeshConfig {
  if (typeof raw !== 'object' || raw === null)
    throw new ConfigError('config', 'expected an object');
  const { relay, iceServers = [] } = raw as { relay?: unknown; iceServers?: unknown };
  if (typeof relay !== 'string' || relay.length > 1024) {
    throw new ConfigError('relay', 'expected a multiaddr string');
  }
  try {
    const ma = multiaddr(relay);
    if (!ma.toString().includes('/p2p/')) throw new Error('it does not end in /p2p/<peer id>');
  } catch (e) {
    throw new ConfigError('relay', `not a relay multiaddr (${(e as Error).message})`);
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
  return { relay, iceServers: iceServers as RTCIceServer[] };
}

/**
 * The mesh config for this page: `?relay=<multiaddr>` wins, else /config.json. Undefined when
 * neither exists (the page then works alone, without the mesh).
 */
export async function loadMeshConfig(url: URL): Promise<MeshConfig | undefined> {
  const relay = url.searchParams.get('relay');
  if (relay !== null) return parseMeshConfig({ relay });
  const res = await fetch(new URL('config.json', url), { cache: 'no-store' });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new ConfigError('config.json', `HTTP ${res.status}`);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new ConfigError('config.json', 'is not valid JSON');
  }
  return parseMeshConfig(json);
}
