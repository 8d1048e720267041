/**
 * Where a checkpoint's files come from. The loader reads only through this interface, so it
 * does no I/O of its own: the page hands it the files a person picked (`filesFromPicked`), Node
 * a folder (files-node.ts), both a URL prefix (`filesFromUrl`), tests a Map (`filesFromMap`).
 */

import { CheckpointError } from './errors';

/** A checkpoint folder: its files by name relative to the folder (`1_Pooling/config.json`). */
export interface CheckpointFiles {
  /** Every file's relative name, '/'-separated, in no particular order. */
  list(): string[];
  /** The file's bytes; a CheckpointError ('missing-file') when there is no such file. */
  read(name: string): Promise<Uint8Array>;
}

/**
 * A source over files already in memory (tests; the page's picked files). Names are taken as
 * given except that a leading './' or '/' is dropped, so 'x/config.json' stays distinct from
 * 'config.json'.
 */
export function filesFromMap(files: ReadonlyMap<string, Uint8Array>): CheckpointFiles {
  const byName = new Map<string, Uint8Array>();
  for (const [name, bytes] of files) byName.set(normalizeName(name), bytes);
  return {
    list: () => [...byName.keys()],
    read: async (name) => {
      const bytes = byName.get(normalizeName(name));
      if (!bytes) throw new CheckpointError('missing-file', name, '', 'no such file in the folder');
      return bytes;
    },
  };
}

function normalizeName(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '');
}

/** The files a checkpoint may have at known names: what a URL source asks its server for (a
 * URL prefix cannot be listed). Shards come from the index; a pooling module's folder from
 * modules.json. */
export const KNOWN_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
  'modules.json',
  'sentence_bert_config.json',
  'model.safetensors',
  'model.safetensors.index.json',
] as const;

/** A relative file name a source may serve: '/'-separated parts, none empty, '.' or '..', no
 * scheme, so no name (one from an index file, say) can reach outside the checkpoint's folder. */
export function isSafeName(name: string): boolean {
  const parts = name.split('/');
  return (
    name.length > 0 &&
    name.length <= 512 &&
    !name.includes('\\') &&
    !name.includes(':') &&
    parts.every((p) => p !== '' && p !== '.' && p !== '..')
  );
}

/** Options of a URL source. */
export interface UrlSourceOptions {
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/**
 * A checkpoint served under a URL prefix (a static server, a model repo's `resolve/main` URL).
 * The prefix cannot be listed, so the source asks for KNOWN_FILES (HEAD), then for the shards
 * the index names and the pooling folder modules.json names; a 404 (or a 2xx HTML page, a
 * static host's fallback) means "not there", anything else that is not 2xx is a CheckpointError ('fetch') naming the file. Each file is fetched once.
 */
export async function filesFromUrl(
  prefix: string,
  { fetch: get = globalThis.fetch, signal }: UrlSourceOptions = {},
): Promise<CheckpointFiles> {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const url = (name: string) => {
    if (!isSafeName(name)) {
      throw new CheckpointError('fetch', name, '', 'not a file name inside the checkpoint');
    }
    return new URL(name.split('/').map(encodeURIComponent).join('/'), base).toString();
  };
  const request = async (name: string, method: 'HEAD' | 'GET'): Promise<Response | undefined> => {
    let res: Response;
    try {
      res = await get(url(name), { method, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError('fetch', name, '', `${method} failed: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (res.status === 404) return undefined;
    if (!res.ok) throw new CheckpointError('fetch', name, '', `${method}: HTTP ${res.status}`);
    // No checkpoint file is HTML: a 2xx HTML page is a static host's fallback (a single-page
    // app's index.html answers every path), i.e. the file is not there.
    if (/^\s*text\/html\b/i.test(res.headers.get('content-type') ?? '')) return undefined;
    return res;
  };
  const bytes = new Map<string, Promise<Uint8Array>>();
  const read = (name: string): Promise<Uint8Array> => {
    let got = bytes.get(name);
    if (!got) {
      got = request(name, 'GET').then(async (res) => {
        if (!res) throw new CheckpointError('missing-file', name, '', 'not found at the URL');
        return new Uint8Array(await res.arrayBuffer());
      });
      bytes.set(name, got);
    }
    return got;
  };
  const present = new Set<string>();
  await Promise.all(
    KNOWN_FILES.map(async (name) => {
      if (await request(name, 'HEAD')) present.add(name);
    }),
  );
  // What the index and modules.json name is asked for too; the loader checks them further.
  const named: string[] = [];
  if (present.has('model.safetensors.index.json')) {
    const index = jsonOf(await read('model.safetensors.index.json'));
    const map = (index as { weight_map?: unknown } | undefined)?.weight_map;
    if (map && typeof map === 'object') {
      for (const shard of new Set(Object.values(map)))
        if (typeof shard === 'string') named.push(shard);
    }
  }
  if (present.has('modules.json')) {
    const modules = jsonOf(await read('modules.json'));
    for (const m of Array.isArray(modules) ? modules : []) {
      const path = (m as { path?: unknown } | null)?.path;
      if (typeof path === 'string' && path !== '') named.push(`${path}/config.json`);
    }
  }
  await Promise.all(
    named
      .filter((n) => isSafeName(n))
      .map(async (name) => {
        if (await request(name, 'HEAD')) present.add(name);
      }),
  );
  return { list: () => [...present], read };
}

/** One file a person picked (a File; `webkitRelativePath` when a whole folder was picked). */
export interface PickedFile {
  name: string;
  webkitRelativePath?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * The files a person picked on the page: a folder (names relative to it: the picked folder's
 * own name is dropped) or loose files (their names). Two files with one name are refused.
 */
export function filesFromPicked(picked: Iterable<PickedFile>): CheckpointFiles {
  const byName = new Map<string, PickedFile>();
  for (const f of picked) {
    const rel = f.webkitRelativePath ? f.webkitRelativePath.split('/').slice(1).join('/') : '';
    const name = normalizeName(rel || f.name);
    if (byName.has(name)) {
      throw new CheckpointError('missing-file', name, '', 'picked twice: pick one folder');
    }
    byName.set(name, f);
  }
  return {
    list: () => [...byName.keys()],
    read: async (name) => {
      const f = byName.get(normalizeName(name));
      if (!f) throw new CheckpointError('missing-file', name, '', 'not among the picked files');
      return new Uint8Array(await f.arrayBuffer());
    },
  };
}

function jsonOf(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined; // the loader reads it again and says what is wrong
  }
}
