import { afterAll, describe, expect, test } from 'vitest';
import { isGpuError } from '../../../src/gpu/errors';
import { DEFAULT_TILE } from '../../../src/gpu/matmul';
import { createComputeApi, type LocalCompute } from '../../../src/worker/api';
import { ComputeClient, WorkerRecycledError } from '../../../src/worker/client';
import { withFaults } from '../../../src/worker/faults';
import { COMPUTE_METHODS, FAULT_METHODS } from '../../../src/worker/methods';
import { serveCompute } from '../../../src/worker/serve';
import { computeSpawnOptions, computeWorkerName } from '../../../src/worker/spawn';
import { channelWorker } from '../../support/channel-worker';
import { randomMatrix } from '../../support/gpu-fixture';

const shape = { m: 8, k: 8, n: 8 };
const inputs = (seed: number) => [randomMatrix(64, seed), randomMatrix(64, seed + 1)] as const;

describe('fault injection is there only when asked for', () => {
  const api = createComputeApi({ engine: 'cpu', cpu: { threads: 1 } });
  afterAll(() => api.dispose());

  test('the production API has no test mode; withFaults adds it', () => {
    for (const name of Object.keys(FAULT_METHODS)) {
      expect(name in api, name).toBe(false);
      expect(typeof (withFaults(api) as unknown as Record<string, unknown>)[name], name).toBe(
        'function',
      );
    }
  });

  test('a Worker serves the fault methods only when spawned with faults', () => {
    expect(computeSpawnOptions(computeWorkerName()).faults).toBe(false);
    expect(computeSpawnOptions(computeWorkerName({ faults: false })).faults).toBe(false);
    expect(computeSpawnOptions(computeWorkerName({ faults: true })).faults).toBe(true);
    const names = (o: object) => Object.keys(o).sort();
    expect(names(serveCompute(api))).toEqual(names(COMPUTE_METHODS));
    expect(names(serveCompute(api, { faults: true }))).toEqual(
      names({ ...COMPUTE_METHODS, ...FAULT_METHODS }),
    );
  });
});

describe('a client spawned with faults plays a cheating, slow or hung contributor', () => {
  const api = createComputeApi({ engine: 'cpu', cpu: { threads: 1 } });
  const client = new ComputeClient({
    faults: true,
    spawn: () => channelWorker(api, { faults: true }),
  });
  afterAll(async () => {
    client.terminate();
    await api.dispose();
  });
  const matmul = async (seed: number) => {
    const [a, b] = inputs(seed);
    return client.matmul(a, b, shape);
  };

  test('perturb: one element far off; garbage: every one random; other-shard: the last one’s', async () => {
    const faults = client.faults!;
    const honest = [await matmul(1), await matmul(3)];
    await faults.setTestMode({ cheat: 'perturb' });
    const perturbed = await matmul(1);
    const off = [...perturbed.keys()].filter((i) => perturbed[i] !== honest[0]![i]);
    expect(off).toHaveLength(1);
    expect(Math.abs(perturbed[off[0]!]! - honest[0]![off[0]!]!)).toBeGreaterThanOrEqual(1);
    await faults.setTestMode({ cheat: 'garbage' });
    const garbage = await matmul(1);
    expect(garbage.every((v, i) => v !== honest[0]![i] && Math.abs(v) <= 1)).toBe(true);
    await faults.setTestMode({ cheat: 'other-shard' });
    expect(await matmul(1)).not.toEqual(honest[0]); // the first is perturbed
    expect(await matmul(3)).toEqual(honest[0]); // the second: the first's honest result
    await faults.setTestMode({});
    expect(await matmul(3)).toEqual(honest[1]);
  });

  test('delayMs makes every matmul late; stall makes it never finish', async () => {
    await client.faults!.setTestMode({ delayMs: 200 });
    const t0 = performance.now();
    await matmul(5);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    await client.faults!.setTestMode({ stall: true });
    const call = matmul(5);
    const hung = await Promise.race([
      call.then(
        () => 'finished',
        () => 'failed',
      ),
      new Promise((r) => setTimeout(() => r('still running'), 300)),
    ]);
    expect(hung).toBe('still running');
    client.recycle('stalled'); // as a tab does with a hung GPU: the stalled call fails
    await expect(call).rejects.toBeInstanceOf(WorkerRecycledError);
  });
});

describe('device loss (the GPU engine)', () => {
  let api: LocalCompute;
  afterAll(() => api?.dispose());

  test('loseDeviceOnNext loses the device in the middle of the next GPU matmul, once', async () => {
    api = createComputeApi({ tile: DEFAULT_TILE, engine: 'cpu', cpu: { threads: 1 } });
    const faulty = withFaults(api);
    await faulty.setTestMode({ loseDeviceOnNext: true });
    const [a, b] = inputs(7);
    // On the CPU engine it waits for a GPU matmul.
    expect(await faulty.matmul(a, b, shape)).toHaveLength(64);
    const before = (await faulty.info()).deviceLosses;
    await faulty.setEngine('webgpu');
    const lost = await faulty.matmul(a, b, shape).catch((e: unknown) => e);
    expect(isGpuError(lost, 'device-lost')).toBe(true);
    expect((await faulty.info()).deviceLosses).toBe(before + 1);
    expect(await faulty.matmul(a, b, shape)).toHaveLength(64); // a new device, no more losses
    await faulty.simulateDeviceLoss();
    expect((await faulty.info()).deviceLosses).toBe(before + 2);
  });
});
