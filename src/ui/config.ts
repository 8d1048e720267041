import { ConfigError, parseMeshConfig } from '../mesh/config';
import type { MeshConfig } from '../mesh/mesh';
import type { EngineKind } from '../worker/api';

export { ConfigError, parseMeshConfig };

/**
 * The engine a page (`?engine=`) or an embed (its `engine` attribute or option) asks for:
 * `webgpu` or `cpu`; `auto` or nothing means the faster, measured. Throws ConfigError otherwise.
 */
export function parseEngine(
  field: string,
  value: string | null | undefined,
): EngineKind | undefined {
  if (value === null || value === undefined || value === '' || value === 'auto') return undefined;
  if (value === 'webgpu' || value === 'cpu') return value;
  throw new ConfigError(field, `must be auto, webgpu or cpu, got ${JSON.stringify(value)}`);
}

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
