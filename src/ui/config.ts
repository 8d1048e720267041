import { ConfigError, parseMeshConfig } from '../mesh/config';
import type { MeshConfig } from '../mesh/mesh';

export { ConfigError, parseMeshConfig };

/**
 * The mesh config for this page: `?relay=<multiaddr>` (repeat it for several relays) wins, else
 * /config.json. Undefined when neither exists (the page then works alone, without the mesh).
 */
export async function loadMeshConfig(url: URL): Promise<MeshConfig | undefined> {
  const relays = url.searchParams.getAll('relay');
  if (relays.length > 0) return parseMeshConfig({ relays });
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
