import { afterAll, describe, expect, test } from 'vitest';
import { CpuError } from '../../../src/cpu/errors';
import { EngineError, GpuError } from '../../../src/gpu/errors';
import { CheckpointError } from '../../../src/model/hf/errors';
import { RequestError } from '../../../src/model/hf/request-error';
import { checkElementwise, matmulF64 } from '../../../src/reference/matmul';
import { type ComputeApi, createComputeApi, type LocalCompute } from '../../../src/worker/api';
import { ComputeClient, WorkerRecycledError } from '../../../src/worker/client';
import { withFaults } from '../../../src/worker/faults';
import {
  COMPUTE_METHODS,
  FAULT_METHODS,
  type MethodTable,
  SEND,
} from '../../../src/worker/methods';
import { channelWorker } from '../../support/channel-worker';
import { randomMatrix } from '../../support/gpu-fixture';
import { textCheckpointObject } from '../../support/hf-text-fixture';

/** A CPU-engine API (one thread: no device, no helper threads to start). */
const cpuApi = () => createComputeApi({ engine: 'cpu', cpu: { threads: 1 } });

describe('the method table and the interface agree', () => {
  type Two = Pick<ComputeApi, 'info' | 'hasModel'>;
  test('tsc refuses a table that misses a method, adds one, or mistypes a rule', () => {
    // Checked by `tsc --noEmit` (tests are in the project): each line must stay an error.
    // @ts-expect-error hasModel is in the interface and not in the table
    const missing: MethodTable<Two> = { info: {} };
    // @ts-expect-error fly is in the table and not in the interface
    const extra: MethodTable<Two> = { info: {}, hasModel: {}, fly: {} };
    // @ts-expect-error info's result has no buffers named tile
    const wrong: MethodTable<Two> = { info: { result: (i) => [i.tile] }, hasModel: {} };
    // @ts-expect-error a method that does not return a Promise cannot cross a thread
    const sync: MethodTable<{ now(): number }> = { now: {} };
    expect([missing, extra, wrong, sync]).toHaveLength(4);
  });

  test('the implementation has exactly the tables’ methods', async () => {
    const api = cpuApi();
    try {
      const own = (o: object) => Object.keys(o).filter((k) => k !== 'dispose' && k !== 'gpu');
      expect(own(api).sort()).toEqual(Object.keys(COMPUTE_METHODS).sort());
      const added = own(withFaults(api)).filter((k) => !(k in api));
      expect(added.sort()).toEqual(Object.keys(FAULT_METHODS).sort());
    } finally {
      await api.dispose();
    }
  });
});

describe('ComputeClient, generated from the table, over a real MessageChannel', () => {
  const apis: LocalCompute[] = [];
  const spawn = () => {
    const api = cpuApi();
    apis.push(api);
    return channelWorker(api);
  };
  const client = new ComputeClient({ spawn, faults: false });
  afterAll(async () => {
    client.terminate();
    await Promise.all(apis.map((a) => a.dispose()));
  });

  test('has every method of the table, and matmul transfers its inputs and its result', async () => {
    for (const name of Object.keys(COMPUTE_METHODS)) {
      expect(typeof (client as unknown as Record<string, unknown>)[name], name).toBe('function');
    }
    const [m, k, n] = [9, 13, 7];
    const a = randomMatrix(m * k, 1);
    const b = randomMatrix(k * n, 2);
    const [a0, b0] = [a.slice(), b.slice()];
    const c = await client.matmul(a, b, { m, k, n });
    expect([a.byteLength, b.byteLength]).toEqual([0, 0]); // moved, not copied
    expect(c).toBeInstanceOf(Float32Array);
    const exact = matmulF64(a0, b0, { m, k, n });
    expect(checkElementwise(c, exact, matmulF64(a0, b0, { m, k, n }, true), k).ok).toBe(true);
    // Two views of one buffer: transferred once.
    const both = Float32Array.of(2, 3);
    const sq = await client.matmul(both.subarray(0, 1), both.subarray(1, 2), { m: 1, k: 1, n: 1 });
    expect([sq[0], both.byteLength]).toEqual([6, 0]);
  });

  test('typed errors cross as their class, with their fields', async () => {
    const gpu = await client
      .matmul([1] as unknown as Float32Array, new Float32Array(1), { m: 1, k: 1, n: 1 })
      .catch((e: unknown) => e);
    expect(gpu).toBeInstanceOf(GpuError);
    expect(gpu).toMatchObject({ name: 'GpuError', code: 'invalid-argument' });
    const short = await client
      .matmul(new Float32Array(3), new Float32Array(4), { m: 2, k: 2, n: 2 })
      .catch((e: unknown) => e);
    // This client's Worker computes on the CPU engine, whose errors are its own.
    expect(short).toBeInstanceOf(CpuError);
    expect(short).toBeInstanceOf(EngineError);
    expect(short).toMatchObject({ name: 'CpuError', code: 'invalid-argument' });
    const files = textCheckpointObject('llama');
    delete files['config.json'];
    const ck = await client.loadModel(files).catch((e: unknown) => e);
    expect(ck).toBeInstanceOf(CheckpointError);
    expect(ck).toMatchObject({ code: 'missing-file', file: 'config.json', field: '' });
    const req = await client
      .logits('0'.repeat(64), new Uint32Array(1), 1, 1, 0)
      .catch((e: unknown) => e);
    expect(req).toBeInstanceOf(RequestError);
    expect(req).toMatchObject({ code: 'unknown-model' });
    expect((req as Error).stack).toContain('model-host'); // the stack of the throw, in the Worker
  });

  test('tokenize and detokenize cross the channel without starting an engine', async () => {
    // A Worker of its own, so no earlier test has started its CPU engine.
    const fresh = new ComputeClient({ spawn, faults: false });
    try {
      const { digest } = await fresh.loadModel(textCheckpointObject('bert'));
      const texts = ['hello world', 'abcdefghijklmnopqrstuvwxyz'];
      const out = await fresh.tokenize(digest, { texts, maxTokens: 12 });
      expect(out.rows.map((r) => r.constructor)).toEqual([Uint32Array, Uint32Array]);
      expect(out.rows.map((r) => r.length)).toEqual([12, 12]); // [CLS] h ##e … ##d [SEP]; cut
      expect(out.truncated).toEqual([1]);
      const rows = out.rows.map((r) => r.slice());
      expect(await fresh.detokenize(digest, out.rows)).toEqual(['hello world', 'abcdefghij']);
      expect(out.rows).toEqual(rows); // copied to the Worker, not moved: the caller keeps them
      const long = await fresh
        .tokenize(digest, { texts: ['a', 'hello world'], maxTokens: 5, overLong: 'refuse' })
        .catch((e: unknown) => e);
      expect(long).toBeInstanceOf(RequestError);
      expect(long).toMatchObject({
        code: 'too-long',
        message: expect.stringContaining('texts[1]'),
      });
      const unknown = await fresh.detokenize('0'.repeat(64), []).catch((e: unknown) => e);
      expect(unknown).toMatchObject({ name: 'RequestError', code: 'unknown-model' });
      const info = await fresh.info();
      expect([info.cpu, info.cpuCalls]).toEqual([undefined, 0]); // no engine started
    } finally {
      fresh.terminate();
    }
  });

  test('a Worker spawned without faults serves no fault method', async () => {
    expect(client.faults).toBe(undefined);
    // Asked anyway, the Worker has no such method.
    await expect(client[SEND]('setTestMode', [{ stall: true }])).rejects.toThrow();
    await expect(client[SEND]('simulateDeviceLoss', [])).rejects.toThrow();
  });

  test('recycling fails the calls in flight and keeps the engine asked for', async () => {
    const faulty = new ComputeClient({
      faults: true,
      spawn: () => {
        const api = createComputeApi({ cpu: { threads: 1 } });
        apis.push(api);
        return channelWorker(api, { faults: true });
      },
    });
    try {
      expect((await faulty.setEngine('cpu')).engine).toBe('cpu');
      await faulty.faults!.setTestMode({ stall: true });
      const hung = faulty.matmul(Float32Array.of(1), Float32Array.of(1), { m: 1, k: 1, n: 1 });
      const stop = new AbortController();
      const cancelled = faulty.cancellable(stop.signal, () => hung);
      stop.abort(new Error('too slow'));
      await expect(cancelled).rejects.toThrow('too slow');
      await expect(hung).rejects.toBeInstanceOf(WorkerRecycledError);
      expect(faulty.recycles).toBe(1);
      // A fresh Worker: honest again, on the engine the tab lends.
      const c = await faulty.matmul(Float32Array.of(2), Float32Array.of(5), { m: 1, k: 1, n: 1 });
      expect(c[0]).toBe(10);
      expect((await faulty.info()).engine).toBe('cpu');
    } finally {
      faulty.terminate();
    }
  });
});
