import { describe, expect, test } from 'vitest';
import matmulWgsl from '../../../shaders/matmul.wgsl?raw';
import { autotune, MemoryTuneStore, median } from '../../../src/gpu/autotune';
import { BufferPool } from '../../../src/gpu/buffers';
import { acquireDevice } from '../../../src/gpu/device';
import { isGpuError } from '../../../src/gpu/errors';
import { specialize } from '../../../src/gpu/pipelines';
import { useGpu } from '../../support/gpu-fixture';

const gpu = useGpu();

describe('device acquisition', () => {
  test('in Node it finds the SwiftShader adapter through Dawn', () => {
    expect(gpu.ctx.summary.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(gpu.ctx.summary.isFallback).toBe(true);
  });

  test('a WebGPU with no adapter is a typed no-adapter error', async () => {
    const gpuWithout = { requestAdapter: async () => null } as unknown as GPU;
    const err = await acquireDevice({ gpu: gpuWithout }).catch((e: unknown) => e);
    expect(isGpuError(err, 'no-adapter')).toBe(true);
  });

  test('a failing requestDevice is a typed device-request-failed error', async () => {
    const real = await gpu.ctx.device; // keep the real device untouched
    const adapter = {
      features: new Set(),
      limits: real.limits,
      info: {},
      requestDevice: async () => {
        throw new TypeError('limits exceeded');
      },
    };
    const fake = { requestAdapter: async () => adapter } as unknown as GPU;
    const err = await acquireDevice({ gpu: fake }).catch((e: unknown) => e);
    expect(isGpuError(err, 'device-request-failed')).toBe(true);
  });
});

describe('pipeline cache', () => {
  test('compiles each knob set once, concurrent callers share it', async () => {
    const knobs = { WG_X: 4, WG_Y: 2, TK: 8, GELU: 0 };
    const before = gpu.ctx.pipelines.size;
    const [p1, p2] = await Promise.all([
      gpu.ctx.pipelines.get('matmul', matmulWgsl, knobs),
      gpu.ctx.pipelines.get('matmul', matmulWgsl, knobs),
    ]);
    expect(p1).toBe(p2);
    expect(gpu.ctx.pipelines.size).toBe(before + 1);
  });

  test('a WGSL error is a typed shader-compile error with the compiler message', async () => {
    const err = await gpu.ctx.pipelines
      .get('broken', '@compute @workgroup_size(1) fn main() { let x: u32 = -1.5; }', {})
      .catch((e: unknown) => e);
    expect(isGpuError(err, 'shader-compile')).toBe(true);
    expect(String((err as Error).message)).toMatch(/error/i);
  });

  test('knobs: missing, unused and non-integer ones are refused', () => {
    expect(specialize('a {{X}} b', { X: 3 })).toBe('a 3 b');
    expect(() => specialize('{{X}}', {})).toThrow(/X/);
    expect(() => specialize('{{X}}', { X: 1, Y: 2 })).toThrow(/Y/);
    expect(() => specialize('{{X}}', { X: 1.5 })).toThrow(/X/);
  });
});

describe('buffer pool', () => {
  test('size classes waste at most 12.5% above 4 KiB', () => {
    for (const bytes of [1, 255, 256, 4097, 10_000, 1 << 20, (1 << 20) + 1, 123_456_789]) {
      const c = BufferPool.sizeClass(bytes);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c % 256).toBe(0);
      if (bytes > 4096) expect(c / bytes).toBeLessThanOrEqual(1.125);
    }
  });

  test('reuses released buffers and evicts beyond its idle budget', () => {
    const pool = new BufferPool(gpu.ctx.device, 64 * 1024);
    const usage = GPUBufferUsage.STORAGE;
    const b1 = pool.acquire(10_000, usage);
    pool.release(b1);
    const b2 = pool.acquire(9_900, usage);
    expect(b2).toBe(b1);
    expect(pool.created).toBe(1);
    pool.release(b2);
    const big = pool.acquire(100_000, usage);
    pool.release(big); // over the 64 KiB idle budget: the oldest idle buffers go
    expect(pool.acquire(10_000, usage)).not.toBe(b1);
    pool.clear();
  });
});

describe('autotune', () => {
  test('measures once, then answers from the store', async () => {
    const store = new MemoryTuneStore();
    const first = await autotune(gpu.ctx, { store, size: 64, runs: 1 });
    expect(first.fromCache).toBe(false);
    expect(first.timings.length).toBeGreaterThan(1);
    const fastest = first.timings.reduce((x, y) => (y.ms < x.ms ? y : x));
    expect(first.tile).toEqual(fastest.tile);
    const second = await autotune(gpu.ctx, { store, size: 64 });
    expect(second).toMatchObject({ fromCache: true, tile: first.tile });
  });

  test('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
