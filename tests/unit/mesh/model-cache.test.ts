// Models kept and moved as checkpoint folders: the file-map framing the model transfer uses
// (src/mesh/file-map.ts), against a peer that lies about names and sizes, and the model caches
// (src/mesh/model-store.ts): least recently used out past the user's limit, the browser one's
// IndexedDB index (schema 2, upgraded from 1) over its files.
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, test } from 'vitest';
import {
  checkpointFiles,
  decodeFileMap,
  encodeFileMap,
  isFolderFileName,
  MAX_FILES,
} from '../../../src/mesh/file-map';
import {
  BrowserModelCache,
  DEFAULT_MODEL_CACHE_BYTES,
  MemoryModelCache,
  MODEL_DB_VERSION,
} from '../../../src/mesh/model-store';

const bytes = (...v: number[]) => Uint8Array.from(v);
const folder = {
  'config.json': new TextEncoder().encode('{"model_type": "gpt2"}'),
  'model.safetensors': bytes(1, 2, 3, 4, 5),
  '1_Pooling/config.json': bytes(),
};

describe('file maps on the wire', () => {
  test('round-trip, one byte string per folder whatever the key order', () => {
    const framed = encodeFileMap(folder);
    expect(decodeFileMap(framed)).toEqual(folder);
    const reversed = Object.fromEntries(Object.entries(folder).reverse());
    expect(encodeFileMap(reversed)).toEqual(framed);
  });

  /** Rewrites a framed folder's header: (count, [name bytes, size][]) and the data after. */
  function frame(entries: [Uint8Array | string, number | bigint][], data: Uint8Array) {
    const magic = new TextEncoder().encode('tessel-files/1\n');
    const names = entries.map(([n]) => (typeof n === 'string' ? new TextEncoder().encode(n) : n));
    const size = magic.length + 4 + names.reduce((s, n) => s + 2 + n.length + 8, 0);
    const out = new Uint8Array(size + data.length);
    const dv = new DataView(out.buffer);
    out.set(magic);
    dv.setUint32(magic.length, entries.length, true);
    let at = magic.length + 4;
    entries.forEach(([, s], i) => {
      dv.setUint16(at, names[i]!.length, true);
      out.set(names[i]!, at + 2);
      at += 2 + names[i]!.length;
      dv.setBigUint64(at, BigInt(s), true);
      at += 8;
    });
    out.set(data, at);
    return out;
  }

  test.each([
    ['a name out of the folder', [['../config.json', 1]], bytes(1), 'files[0].name'],
    ['an absolute path', [['/etc/passwd', 1]], bytes(1), 'files[0].name'],
    ['an empty part', [['a//b', 1]], bytes(1), 'files[0].name'],
    ['a prototype key', [['__proto__', 1]], bytes(1), 'files[0].name'],
    ['a scheme', [['C:config.json', 1]], bytes(1), 'files[0].name'],
    ['a name that is not UTF-8', [[bytes(0xff, 0xfe), 1]], bytes(1), 'files[0].name'],
    [
      'a name twice',
      [
        ['a', 1],
        ['a', 1],
      ],
      bytes(1, 2),
      'files[1].name',
    ],
    [
      'names out of order',
      [
        ['b', 1],
        ['a', 1],
      ],
      bytes(1, 2),
      'files[1].name',
    ],
    ['sizes past the end', [['a', 5]], bytes(1), 'files'],
    ['bytes past the sizes', [['a', 1]], bytes(1, 2), 'files'],
    ['a size beyond any model', [['a', 2n ** 62n]], bytes(1), 'files[0].size'],
    ['no files', [], bytes(), 'count'],
  ] as const)('%s is a WireError naming the field', (_, entries, data, field) => {
    expect(() => decodeFileMap(frame(entries as never, data))).toThrowError(
      expect.objectContaining({ name: 'WireError', field }),
    );
  });

  test('a cut header, another format and too many files are refused too', () => {
    const framed = encodeFileMap(folder);
    expect(() => decodeFileMap(framed.subarray(0, 20))).toThrow(/ends early/);
    const other = framed.slice();
    other[0] = 0;
    expect(() => decodeFileMap(other)).toThrowError(
      expect.objectContaining({ code: 'bad-version' }),
    );
    const many = Object.fromEntries(
      Array.from({ length: MAX_FILES + 1 }, (_, i) => [`f${i}`, bytes()]),
    );
    expect(() => encodeFileMap(many)).toThrowError(expect.objectContaining({ field: 'files' }));
    expect(() => encodeFileMap({ '../x': bytes() })).toThrowError(
      expect.objectContaining({ name: 'WireError' }),
    );
    expect(isFolderFileName('1_Pooling/config.json')).toBe(true);
    expect(isFolderFileName('a/__proto__/b')).toBe(false);
  });
});

test('a model repository folder keeps its checkpoint files, not its copies in other formats', () => {
  const repo = {
    ...folder,
    'model-00001-of-00002.safetensors': bytes(1),
    'model.safetensors.index.json': bytes(2),
    'tokenizer.json': bytes(3),
    'chat_template.jinja': bytes(4),
    'pytorch_model.bin': bytes(5),
    'onnx/model.onnx': bytes(6),
    'README.md': bytes(7),
    '.git/config': bytes(8),
  };
  expect(Object.keys(checkpointFiles(repo)).sort()).toEqual([
    '1_Pooling/config.json',
    'chat_template.jinja',
    'config.json',
    'model-00001-of-00002.safetensors',
    'model.safetensors',
    'model.safetensors.index.json',
    'tokenizer.json',
  ]);
});

describe('the memory model cache', () => {
  test('keeps models by digest and drops the least recently used past its limit', async () => {
    let t = 0;
    const cache = new MemoryModelCache(10, () => t++);
    expect(cache.limit()).toBe(10);
    await cache.put('a', { x: new Uint8Array(4) }, 'A');
    await cache.put('b', { x: new Uint8Array(4) }, 'B');
    await cache.get('a'); // a is now the most recently used
    await cache.put('c', { x: new Uint8Array(4) }, 'C');
    expect((await cache.list()).map((m) => m.digest).sort()).toEqual(['a', 'c']);
    expect(await cache.get('b')).toBeUndefined();
    // Larger than the limit by itself: not kept, nothing dropped for it.
    await cache.put('big', { x: new Uint8Array(11) }, 'big');
    expect((await cache.list()).map((m) => m.name).sort()).toEqual(['A', 'C']);
    await cache.setLimit(5); // C was used after A
    expect((await cache.list()).map((m) => m.name)).toEqual(['C']);
    await cache.delete('c');
    expect(await cache.list()).toEqual([]);
    await expect(cache.put('d', { '../x': bytes() }, 'D')).rejects.toThrow(RangeError);
    await expect(cache.setLimit(-1)).rejects.toThrow(RangeError);
    expect(new MemoryModelCache().limit()).toBe(DEFAULT_MODEL_CACHE_BYTES);
  });
});

/** A directory in memory with the parts of FileSystemDirectoryHandle the cache uses: what OPFS
 * gives a page (Node has no OPFS). */
class Dir {
  readonly kind = 'directory';
  readonly entries = new Map<string, Dir | File>();
  async getDirectoryHandle(name: string, o: { create?: boolean } = {}) {
    return this.#get(name, o.create, () => new Dir()) as Promise<Dir>;
  }
  async getFileHandle(name: string, o: { create?: boolean } = {}) {
    return this.#get(name, o.create, () => new File()) as Promise<File>;
  }
  async removeEntry(name: string) {
    if (!this.entries.delete(name)) throw new DOMException('no such entry', 'NotFoundError');
  }
  async #get(name: string, create: boolean | undefined, make: () => Dir | File) {
    let e = this.entries.get(name);
    if (!e && create) {
      e = make();
      this.entries.set(name, e);
    }
    if (!e) throw new DOMException(`no ${name}`, 'NotFoundError');
    return e;
  }
}
class File {
  readonly kind = 'file';
  data = new Uint8Array(0);
  async getFile() {
    return new Blob([this.data]);
  }
  async createWritable() {
    const parts: Uint8Array[] = [];
    return {
      write: async (d: Uint8Array) => void parts.push(d.slice()),
      close: async () => {
        this.data = Uint8Array.from(parts.flatMap((p) => Array.from(p)));
      },
    };
  }
}

describe('the browser model cache (IndexedDB index over a directory of files)', () => {
  const d1 = 'a1'.repeat(32);
  const d2 = 'b2'.repeat(32);

  test('files under models/<digest>/ by path; the index drops a model whose files went', async () => {
    const root = new Dir();
    const cache = await BrowserModelCache.open('cache-files', root as never);
    await cache.put(d1, folder, 'tiny');
    expect(await cache.get(d1)).toEqual(folder);
    expect([...(root.entries.get(d1) as Dir).entries.keys()].sort()).toEqual([
      '1_Pooling',
      'config.json',
      'model.safetensors',
    ]);
    expect(await cache.list()).toEqual([
      expect.objectContaining({ digest: d1, name: 'tiny', bytes: 27 }),
    ]);
    await (root.entries.get(d1) as Dir).removeEntry('model.safetensors');
    expect(await cache.get(d1)).toBeUndefined();
    expect(await cache.list()).toEqual([]);
    await expect(cache.put('not a digest', folder, 'x')).rejects.toThrow(RangeError);
  });

  test('the limit persists, and putting past it drops the least recently used', async () => {
    const root = new Dir();
    const cache = await BrowserModelCache.open('cache-limit', root as never);
    await cache.setLimit(40);
    await cache.put(d1, folder, 'one');
    await new Promise((r) => setTimeout(r, 2));
    await cache.put(d2, folder, 'two');
    expect((await cache.list()).map((m) => m.name)).toEqual(['two']);
    expect(root.entries.has(d1)).toBe(false);
    cache.db.close();
    const again = await BrowserModelCache.open('cache-limit', root as never);
    expect(again.limit()).toBe(40);
  });

  test('an open cache does not block a newer tab’s upgrade', async () => {
    const cache = await BrowserModelCache.open('cache-blocking', new Dir() as never);
    const newer = await openDB('cache-blocking', 99, { blocked: () => expect.fail('blocked') });
    expect(newer.version).toBe(99);
    newer.close();
    void cache;
  });

  test(`schema 1 (old-format models in IndexedDB) is upgraded to ${MODEL_DB_VERSION}, its records dropped`, async () => {
    const v1 = await openDB('cache-upgrade', 1, {
      upgrade: (db) => db.createObjectStore('models', { keyPath: 'digest' }),
    });
    await v1.put('models', { digest: d1, config: '{}', file: new ArrayBuffer(3), storedAt: 1 });
    v1.close();
    const cache = await BrowserModelCache.open('cache-upgrade', new Dir() as never);
    expect(cache.db.version).toBe(MODEL_DB_VERSION);
    expect(await cache.list()).toEqual([]);
    expect(await cache.get(d1)).toBeUndefined();
    await cache.put(d1, folder, 'new');
    expect(await cache.get(d1)).toEqual(folder);
  });
});
