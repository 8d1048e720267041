// The model protocol's two sides (ModelServer, ModelFetcher) over libp2p's in-memory stream
// pairs, with stub components: chunks checked against the manifest, corruption injected through
// the test-only fault (corruptModelChunks) and through the deprecated property the e2e specs
// still set. The TCP suite (tests/integration/shard-protocol) runs them between real peers.
import '../../../src/relay/polyfills';
import type { Connection, StreamHandler } from '@libp2p/interface';
import { streamPair } from '@libp2p/utils';
import { describe, expect, test } from 'vitest';
import { checkpointDigest } from '../../../src/mesh/file-map';
import {
  corruptModelChunks,
  ModelFetcher,
  type ModelFetcherComponents,
  ModelServer,
  type ModelServerComponents,
  type ModelTransferError,
} from '../../../src/mesh/model-transfer';
import { tinyModelFiles } from '../../support/model-fixture';

const OWNER = 'owner-peer';

async function setup(mayFetch = (_peer: string, _digest: string, _job: string) => true) {
  const handlers = new Map<string, StreamHandler>();
  const node: ModelServerComponents = {
    handle: async (protocol: string | string[], handler: StreamHandler) => {
      for (const p of [protocol].flat()) handlers.set(p, handler);
    },
    unhandle: async (protocol: string | string[]) => {
      for (const p of [protocol].flat()) handlers.delete(p);
    },
  } as unknown as ModelServerComponents;
  // Small chunks: the tiny model crosses in several, so one corrupted chunk is one of many.
  const server = new ModelServer(node, { mayFetch, chunkBytes: 64 * 1024 });
  await server.start();
  const bad: { peer: string; code: string }[] = [];
  const dialer: ModelFetcherComponents = {
    dialProtocol: async (_addr: unknown, protocol: string) => {
      const [outbound, inbound] = await streamPair();
      const conn = { remotePeer: { toString: () => 'fetcher-peer' } } as unknown as Connection;
      void handlers.get(protocol)!(inbound, conn);
      return outbound;
    },
  } as unknown as ModelFetcherComponents;
  const fetcher = new ModelFetcher(dialer, {
    onBadPeer: (peer: string, e: ModelTransferError) => bad.push({ peer, code: e.code }),
  });
  const files = tinyModelFiles(7);
  const digest = await checkpointDigest(files);
  server.add(digest, files);
  const src = { owner: OWNER, addr: '/ip4/127.0.0.1/tcp/1', jobId: 'job-1' };
  return { server, fetcher, files, digest, src, bad };
}

describe('/tessel/model/1.0.0 over in-memory streams', () => {
  test('a model crosses whole and checked', async () => {
    const { fetcher, files, digest, src, bad } = await setup();
    expect(await fetcher.fetch(digest, src, AbortSignal.timeout(4_000))).toEqual(files);
    expect(bad).toEqual([]);
    expect(fetcher.fetched.at(-1)).toMatchObject({ digest, attempts: 1 });
  });

  test('an injected corrupted chunk is caught by its hash, blamed on the owner, and fetched again', async () => {
    const { server, fetcher, files, digest, src, bad } = await setup();
    corruptModelChunks(server, 1);
    expect(await fetcher.fetch(digest, src, AbortSignal.timeout(4_000))).toEqual(files);
    expect(bad).toEqual([{ peer: OWNER, code: 'chunk-mismatch' }]);
    expect(fetcher.fetched.at(-1)).toMatchObject({ attempts: 2 });
    // The fault is spent: fetched again, every chunk is right the first time.
    expect(await fetcher.fetch(digest, src, AbortSignal.timeout(4_000))).toEqual(files);
    expect(bad).toHaveLength(1);
    expect(fetcher.fetched.at(-1)).toMatchObject({ attempts: 1 });
  });

  test('a peer without a lease is refused, and the owner is not blamed', async () => {
    const { fetcher, digest, src, bad } = await setup(() => false);
    await expect(fetcher.fetch(digest, src, AbortSignal.timeout(4_000))).rejects.toMatchObject({
      name: 'ModelTransferError',
      code: 'refused',
    });
    expect(bad).toEqual([]);
  });
});
