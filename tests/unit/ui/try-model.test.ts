import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { digestFiles, loadCheckpoint } from '../../../src/model/hf/checkpoint';
import { CheckpointError } from '../../../src/model/hf/errors';
import {
  filesFromMap,
  filesFromPicked,
  filesFromUrl,
  type PickedFile,
} from '../../../src/model/hf/files';
import { type DropEntry, filesFromEntries } from '../../../src/ui/dropped-files';
import { InputError } from '../../../src/ui/form-input';
import { loadTryModelPrefs, saveTryModelPrefs } from '../../../src/ui/prefs';
import {
  cosineMatrix,
  describeModelError,
  embedLines,
  formatMb,
  formatParams,
  formatSimilarity,
  MAX_EMBED_LINES,
  modelName,
  neededNames,
  parseCacheLimitMb,
  pickedFolder,
  readCheckpoint,
  similarityColour,
} from '../../../src/ui/try-model';
import { hfCheckpointFiles } from '../../support/hf-checkpoints';

/** Files as a folder picker gives them: `folder/…` relative paths. */
function picked(folder: string, files: Map<string, Uint8Array>): PickedFile[] {
  return [...files].map(([name, bytes]) => ({
    name: name.split('/').pop()!,
    webkitRelativePath: `${folder}/${name}`,
    arrayBuffer: async () => bytes.slice().buffer,
  }));
}

const junk = new TextEncoder().encode('not part of the model');

describe('a picked folder becomes the file map a checkpoint loader needs', () => {
  test('BERT with sentence-transformers files: folder prefix dropped, README/.bin/.onnx left out, loads with the same digest', async () => {
    const files = hfCheckpointFiles({ kind: 'bert' });
    const withJunk = new Map(files);
    withJunk.set('README.md', junk);
    withJunk.set('pytorch_model.bin', junk);
    withJunk.set('onnx/model.onnx', junk);
    withJunk.set('2_Normalize/.gitkeep', junk);
    const list = picked('all-MiniLM-L6-v2', withJunk);
    expect(pickedFolder(list)).toBe('all-MiniLM-L6-v2');
    const progress: number[] = [];
    const { files: map, bytes } = await readCheckpoint(filesFromPicked(list), (p) =>
      progress.push(p.done),
    );
    expect(Object.keys(map).sort()).toEqual([...files.keys()].sort());
    expect(bytes).toBe([...files.values()].reduce((s, f) => s + f.byteLength, 0));
    expect(progress).toEqual([...files.keys()].map((_, i) => i + 1));
    // The map is the checkpoint: the loader takes it as is and digests it as the folder.
    const fromMap = await loadCheckpoint(filesFromMap(new Map(Object.entries(map))));
    const fromFolder = await loadCheckpoint(filesFromMap(files));
    expect(fromMap.digest).toBe(fromFolder.digest);
    expect(fromMap.pooling).toBeDefined();
  });

  test('sharded weights: the shards the index names, no stray shard; loose files keep their names', async () => {
    const files = hfCheckpointFiles({ kind: 'llama', shards: 2 });
    const stray = 'model-00003-of-00003.safetensors';
    const names = await neededNames(
      [...files.keys(), stray, 'notes.txt'],
      async (n) => files.get(n)!,
    );
    expect(names).toEqual([...files.keys()].sort());
    expect(names).not.toContain(stray);
    // Several loose files picked (no folder): their own names.
    const loose = [...files].map(([name, bytes]) => ({
      name,
      arrayBuffer: async () => bytes.slice().buffer,
    }));
    expect(pickedFolder(loose)).toBe('');
    const { files: map } = await readCheckpoint(filesFromPicked(loose));
    expect(Object.keys(map).sort()).toEqual([...files.keys()].sort());
  });

  test('an index that does not parse keeps the shard-named files, and the loader names the index', async () => {
    const files = hfCheckpointFiles({ kind: 'gpt2', shards: 2 });
    files.set('model.safetensors.index.json', new TextEncoder().encode('{oops'));
    const { files: map } = await readCheckpoint(filesFromMap(files));
    expect(Object.keys(map).sort()).toEqual([...files.keys()].sort());
    await expect(loadCheckpoint(filesFromMap(new Map(Object.entries(map))))).rejects.toMatchObject({
      name: 'CheckpointError',
      file: 'model.safetensors.index.json',
    });
  });

  test('reading stops between files once aborted', async () => {
    const files = hfCheckpointFiles({ kind: 'gpt2' });
    const abort = new AbortController();
    const read = readCheckpoint(
      filesFromMap(files),
      () => abort.abort(new Error('stopped')),
      abort.signal,
    );
    await expect(read).rejects.toThrow('stopped');
  });

  test('names from outside the folder (../, absolute, backslashes) are never read', async () => {
    const names = await neededNames(
      ['config.json', '../config.json', 'a\\b.json', '1_Pooling/../../x/config.json'],
      async () => new Uint8Array(),
    );
    expect(names).toEqual(['config.json']);
  });
});

describe('a dropped folder (File and Directory Entries)', () => {
  /** Entries over a tree of names, read in batches of two as Chrome hands out up to 100. */
  function tree(root: string, files: Map<string, Uint8Array>): DropEntry {
    const dir = (path: string): DropEntry => {
      const children = new Map<string, DropEntry>();
      for (const [name, bytes] of files) {
        const full = `${root}/${name}`;
        if (!full.startsWith(`${path}/`)) continue;
        const rest = full.slice(path.length + 1);
        const head = rest.split('/')[0]!;
        if (children.has(head)) continue;
        children.set(
          head,
          rest.includes('/')
            ? dir(`${path}/${head}`)
            : {
                isFile: true,
                isDirectory: false,
                name: head,
                fullPath: `/${full}`,
                file: (ok) => ok(new File([bytes.slice()], head)),
              },
        );
      }
      const all = [...children.values()];
      return {
        isFile: false,
        isDirectory: true,
        name: path.split('/').pop()!,
        fullPath: `/${path}`,
        createReader: () => {
          let at = 0;
          return {
            readEntries: (ok) => {
              ok(all.slice(at, at + 2));
              at += 2;
            },
          };
        },
      };
    };
    return dir(root);
  }

  test('every batch is read, 1_Pooling/config.json included, .git and deeper folders skipped', async () => {
    const files = hfCheckpointFiles({ kind: 'bert' });
    const extra = new Map(files);
    extra.set('.git/config', junk);
    extra.set('onnx/deep/er/model.onnx', junk);
    const dropped = await filesFromEntries([tree('minilm', extra)]);
    const rel = dropped.map((f) => f.webkitRelativePath).sort();
    expect(rel).toEqual([...files.keys()].map((n) => `minilm/${n}`).sort());
    const { files: map } = await readCheckpoint(filesFromPicked(dropped));
    expect(Object.keys(map).sort()).toEqual([...files.keys()].sort());
    expect(map['config.json']).toEqual(files.get('config.json'));
  });
});

describe('similarities of embeddings', () => {
  test('cosine matrix: symmetric, 1 on the diagonal, exact values, a zero vector has none', () => {
    const v = [
      Float32Array.of(1, 0, 0),
      Float32Array.of(1, 1, 0),
      Float32Array.of(-2, 0, 0),
      Float32Array.of(0, 0, 0),
    ];
    const m = cosineMatrix(v);
    expect(m[0]![0]).toBe(1);
    expect(m[1]![1]).toBe(1);
    expect(m[0]![1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(m[1]![0]).toBe(m[0]![1]);
    expect(m[0]![2]).toBe(-1);
    expect(m[1]![2]).toBeCloseTo(-Math.SQRT1_2, 6);
    expect(m[3]!.every(Number.isNaN)).toBe(true);
    expect(m.map((r) => formatSimilarity(r[3]!))).toEqual(['—', '—', '—', '—']);
    expect(formatSimilarity(-0.001)).toBe('0.00');
    expect(formatSimilarity(m[0]![1]!)).toBe('0.71');
    expect(() => cosineMatrix([Float32Array.of(1, 2), Float32Array.of(1)])).toThrow(InputError);
    expect(cosineMatrix([])).toEqual([]);
  });

  test('rounding never yields a cosine past ±1', () => {
    const a = Float32Array.from({ length: 384 }, (_, i) => Math.sin(i) * 1e-3);
    const b = a.map((x) => x * 3);
    const m = cosineMatrix([a, b]);
    expect(m[0]![1]).toBeLessThanOrEqual(1);
    expect(m[0]![1]).toBeCloseTo(1, 6);
  });

  test('cell colours: light at 0, darker towards ±1 (blue above, orange below), grey for none', () => {
    const light = (c: string) => Number(/(\d+)%\)$/.exec(c)![1]);
    expect(light(similarityColour(0))).toBe(98);
    expect(light(similarityColour(1))).toBe(72);
    expect(light(similarityColour(0.5))).toBeGreaterThan(72);
    expect(similarityColour(0.5)).toMatch(/^hsl\(215 /);
    expect(similarityColour(-0.5)).toMatch(/^hsl\(30 /);
    expect(similarityColour(Number.NaN)).toBe('hsl(0 0% 92%)');
  });

  test('lines to embed: blank lines dropped, none or too many refused', () => {
    expect(embedLines(' a \n\n b\r\nc ')).toEqual(['a', 'b', 'c']);
    expect(() => embedLines(' \n ')).toThrow(InputError);
    expect(() =>
      embedLines(
        Array(MAX_EMBED_LINES + 1)
          .fill('x')
          .join('\n'),
      ),
    ).toThrow(`At most ${MAX_EMBED_LINES} lines`);
  });
});

describe('numbers people read', () => {
  test('parameter counts', () => {
    expect(formatParams(824)).toBe('824');
    expect(formatParams(12_345)).toBe('12.3 k');
    expect(formatParams(134_515_008)).toBe('135 M');
    expect(formatParams(1_543_714_304)).toBe('1.54 B');
  });

  test('the cache limit field: MB to bytes, out of range refused', () => {
    expect(parseCacheLimitMb('500')).toBe(500e6);
    expect([30_000, 1_654_080, 2 * 2 ** 30].map(formatMb)).toEqual([
      '0.03 MB',
      '1.7 MB',
      '2147 MB',
    ]);
    expect(parseCacheLimitMb(' 1.5 ')).toBe(1.5e6);
    for (const bad of ['', '0', '-3', 'lots', '1e9']) {
      expect(() => parseCacheLimitMb(bad)).toThrow(InputError);
    }
  });

  test('model names for the cache list', () => {
    expect(
      modelName({ url: 'https://huggingface.co/HuggingFaceTB/SmolLM2-135M/resolve/main/' }),
    ).toBe('huggingface.co/HuggingFaceTB/SmolLM2-135M');
    expect(modelName({ url: 'http://localhost:4173/models/kjv-char/' })).toBe(
      'localhost:4173/models/kjv-char',
    );
    expect(modelName({ folder: 'bge-small' })).toBe('bge-small');
    expect(modelName({ folder: '' })).toBe('picked files');
  });
});

describe('errors as a person reads them', () => {
  test('typed errors by class and code, with the file and field their message starts with', async () => {
    const files = hfCheckpointFiles({ kind: 'llama', config: { num_attention_heads: 5 } });
    const err = await loadCheckpoint(filesFromMap(files)).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    const text = describeModelError(err);
    expect(text).toMatch(/^CheckpointError \([a-z-]+\): config\.json \(/);
    // As comlink delivers it from the Worker: a plain Error with the name and code put back.
    const crossed = Object.assign(new Error(err.message), { name: err.name, code: err.code });
    expect(describeModelError(crossed)).toBe(text);
    expect(describeModelError(new InputError('Type a prompt first.'))).toBe('Type a prompt first.');
    expect(describeModelError(new Error('plain'))).toBe('plain');
    expect(describeModelError('a string')).toBe('a string');
  });
});

describe('preferences', () => {
  const memory = (): Storage => {
    const m = new Map<string, string>();
    return {
      get length() {
        return m.size;
      },
      clear: () => m.clear(),
      getItem: (k) => m.get(k) ?? null,
      key: (i) => [...m.keys()][i] ?? null,
      removeItem: (k) => void m.delete(k),
      setItem: (k, v) => void m.set(k, String(v)),
    };
  };

  test('the cache limit and last URL are remembered; bad stored values are dropped', () => {
    const s = memory();
    expect(loadTryModelPrefs(s)).toEqual({});
    saveTryModelPrefs({ cacheLimitBytes: 300e6, lastUrl: 'https://example.org/m/' }, s);
    expect(loadTryModelPrefs(s)).toEqual({
      cacheLimitBytes: 300e6,
      lastUrl: 'https://example.org/m/',
    });
    s.setItem('tessel:try-model', '{"cacheLimitBytes":-5,"lastUrl":"javascript:alert(1)"}');
    expect(loadTryModelPrefs(s)).toEqual({});
    s.setItem('tessel:try-model', '{"cacheLimitBytes":1e15}');
    expect(loadTryModelPrefs(s)).toEqual({});
    s.setItem('tessel:try-model', 'nope');
    expect(loadTryModelPrefs(s)).toEqual({});
  });
});

describe('a URL source on a single-page-app server', () => {
  // A server like vite's preview: the checkpoint's files, and index.html with 200 for the rest.
  const files = hfCheckpointFiles({ kind: 'gpt2' });
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const name = decodeURIComponent(new URL(req.url!, 'http://x').pathname.replace(/^\/m\//, ''));
      const body = files.get(name);
      const html = /text\/html|\*\/\*/.test(req.headers.accept ?? '*/*');
      if (body) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(req.method === 'HEAD' ? undefined : body);
      } else if (html) {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(req.method === 'HEAD' ? undefined : '<!doctype html><title>app</title>');
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m/`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  test('the page reads exactly the checkpoint from the URL, and it loads with its digest', async () => {
    const source = await filesFromUrl(base);
    expect(source.list().sort()).toEqual([...files.keys()].sort());
    const { files: map } = await readCheckpoint(source);
    const c = await loadCheckpoint(filesFromMap(new Map(Object.entries(map))));
    expect(c.digest).toBe(await digestFiles(filesFromMap(files), [...files.keys()]));
  });

  test('a server that hides a file behind the HTML fallback leaves it missing, named', async () => {
    files.delete('config.json');
    try {
      const source = await filesFromUrl(base);
      const { files: map } = await readCheckpoint(source);
      const err = await loadCheckpoint(filesFromMap(new Map(Object.entries(map)))).catch((e) => e);
      expect(err).toBeInstanceOf(CheckpointError);
      expect(err).toMatchObject({ code: 'missing-file', file: 'config.json' });
    } finally {
      files.set('config.json', hfCheckpointFiles({ kind: 'gpt2' }).get('config.json')!);
    }
  });
});
