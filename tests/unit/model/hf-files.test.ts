// Where a checkpoint's files come from: a URL prefix (a real HTTP server on loopback), a folder
// on disk, the files a person picked. Each must give the loader the same checkpoint as the
// files in memory do, and refuse what could reach outside the checkpoint.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadCheckpoint } from '../../../src/model/hf/checkpoint';
import { CheckpointError } from '../../../src/model/hf/errors';
import {
  filesFromMap,
  filesFromPicked,
  filesFromUrl,
  isSafeName,
} from '../../../src/model/hf/files';
import { filesFromDirectory } from '../../../src/model/hf/files-node';
import { hfCheckpointFiles } from '../../support/hf-checkpoints';

/** Serves `folders[name]` under /name/, counting requests; /broken/ answers 500; /spa/
 * answers any file it lacks with an HTML page and 200, as a single-page app's host does. */
function serve(folders: Record<string, Map<string, Uint8Array>>) {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}`);
    const [, folder, ...rest] = path.split('/');
    if (folder === 'broken') {
      res.writeHead(500).end();
      return;
    }
    const bytes = folders[folder ?? '']?.get(rest.join('/'));
    if (!bytes && folder === 'spa' && folders.spa) {
      // A single-page app's host: every unknown path is its index.html, with 200.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : '<!doctype html><title>app</title>');
      return;
    }
    if (!bytes) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': bytes.length });
    res.end(req.method === 'HEAD' ? undefined : Buffer.from(bytes));
  });
  return { server, requests };
}

describe('checkpoint sources', () => {
  const sharded = hfCheckpointFiles({ kind: 'llama', dtype: 'BF16', shards: 3 });
  const bert = hfCheckpointFiles({ kind: 'bert' });
  let http: { server: Server; requests: string[] };
  let base = '';
  beforeAll(async () => {
    http = serve({ sharded, bert, spa: bert });
    await new Promise<void>((r) => http.server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => http.server.close(() => r())));

  test('a URL prefix: shards from the index and the pooling folder from modules.json, each file fetched once, the same digest', async () => {
    const fromMap = await loadCheckpoint(filesFromMap(sharded));
    http.requests.length = 0;
    const fromUrl = await loadCheckpoint(await filesFromUrl(`${base}/sharded`));
    expect(fromUrl.digest).toBe(fromMap.digest);
    expect(fromUrl.weights.names()).toEqual(fromMap.weights.names());
    const gets = http.requests.filter((r) => r.startsWith('GET'));
    expect(new Set(gets).size).toBe(gets.length);
    expect(gets.filter((g) => g.endsWith('.safetensors'))).toHaveLength(3);

    const embedder = await loadCheckpoint(await filesFromUrl(`${base}/bert/`));
    expect(embedder.digest).toBe((await loadCheckpoint(filesFromMap(bert))).digest);
    expect(embedder.pooling).toBeDefined();
  });

  test('a host that answers every path with its HTML page: those files are absent, not the page', async () => {
    const spa = await filesFromUrl(`${base}/spa`);
    expect(spa.list()).not.toContain('chat_template.jinja');
    expect(spa.list()).not.toContain('tokenizer_config.json');
    expect((await loadCheckpoint(spa)).digest).toBe(
      (await loadCheckpoint(filesFromMap(bert))).digest,
    );
  });

  test('a URL that is not a checkpoint, or a server failing, is a typed error naming the file', async () => {
    const none = loadCheckpoint(await filesFromUrl(`${base}/nothing`));
    await expect(none).rejects.toMatchObject({ code: 'missing-file', file: 'config.json' });
    await expect(filesFromUrl(`${base}/broken`)).rejects.toBeInstanceOf(CheckpointError);
    await expect(filesFromUrl(`${base}/broken`)).rejects.toMatchObject({ code: 'fetch' });
    await expect(filesFromUrl('http://127.0.0.1:1/x')).rejects.toMatchObject({ code: 'fetch' });
  });

  test('an index naming a shard outside the folder is never fetched', async () => {
    const evil = new Map(sharded);
    const index = JSON.parse(new TextDecoder().decode(evil.get('model.safetensors.index.json')));
    const first = Object.keys(index.weight_map)[0]!;
    index.weight_map[first] = '../secret.safetensors';
    evil.set('model.safetensors.index.json', new TextEncoder().encode(JSON.stringify(index)));
    const { server, requests } = serve({ evil });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/evil`;
      await expect(loadCheckpoint(await filesFromUrl(url))).rejects.toBeInstanceOf(CheckpointError);
      expect(requests.some((r) => r.includes('secret'))).toBe(false);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    for (const bad of ['../x', '/x', 'a//b', 'a/./b', 'c:\\x', 'http://x/y', '']) {
      expect(isSafeName(bad), bad).toBe(false);
    }
    expect(isSafeName('1_Pooling/config.json')).toBe(true);
  });

  test('a folder on disk, and the files a person picked, give the same checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessel-hf-'));
    for (const [name, bytes] of bert) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    writeFileSync(join(dir, 'README.md'), 'not read');
    const want = (await loadCheckpoint(filesFromMap(bert))).digest;
    expect((await loadCheckpoint(await filesFromDirectory(dir))).digest).toBe(want);

    // A link leading out of the folder is refused when read.
    const outside = mkdtempSync(join(tmpdir(), 'tessel-out-'));
    writeFileSync(join(outside, 'tokenizer.json'), '{}');
    symlinkSync(join(outside, 'tokenizer.json'), join(dir, 'tokenizer.json'));
    const linked = await filesFromDirectory(dir);
    await expect(linked.read('tokenizer.json')).rejects.toMatchObject({ code: 'missing-file' });
    await expect(filesFromDirectory(join(dir, 'nope'))).rejects.toBeInstanceOf(CheckpointError);

    // Picked as a folder (webkitRelativePath starts with the folder's own name), or loose.
    const picked = [...bert].map(([name, bytes]) => ({
      name: name.split('/').at(-1)!,
      webkitRelativePath: `all-MiniLM/${name}`,
      arrayBuffer: async () => bytes.slice().buffer,
    }));
    expect((await loadCheckpoint(filesFromPicked(picked))).digest).toBe(want);
    const loose = [...sharded].map(([name, bytes]) => ({
      name,
      arrayBuffer: async () => bytes.slice().buffer,
    }));
    const fromLoose = await loadCheckpoint(filesFromPicked(loose));
    expect(fromLoose.digest).toBe((await loadCheckpoint(filesFromMap(sharded))).digest);
    const twice = [...loose, loose[0]!];
    expect(() => filesFromPicked(twice)).toThrow(CheckpointError);
  });
});
