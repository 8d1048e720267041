// The one helper that turns a kernel descriptor (descriptor.ts) into GPU work: it creates the
// pipeline with an explicit bind group layout built from the descriptor (so a descriptor that
// disagrees with its shader fails at pipeline creation, not as a wrong answer), packs the
// uniform struct from a plain object, and binds buffers by name.

import type { GpuContext } from '../context';
import { GpuError } from '../errors';
import type {
  BufferNames,
  KernelDescriptor,
  OverrideNames,
  UniformBinding,
  UniformNames,
} from './descriptor';

/** A compiled kernel: its descriptor, the constants it was built with, and its pipeline. */
export interface CompiledKernel<D extends KernelDescriptor = KernelDescriptor> {
  readonly descriptor: D;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/** The uniform binding of a descriptor, if it has one. */
function uniformOf(d: KernelDescriptor): UniformBinding | undefined {
  return d.bindings.find((b): b is UniformBinding => b.kind === 'uniform');
}

/**
 * The bytes of `d`'s uniform struct holding `values`, in WGSL's layout for the uniform address
 * space: each scalar member (u32, f32, i32) is 4 bytes at 4-byte alignment, members in declared
 * order; the buffer is rounded up to 16 bytes (a uniform binding's granularity). Every field
 * must be given, none other, each representable in its type, else GpuError('invalid-argument').
 */
export function packUniforms(d: KernelDescriptor, values: Record<string, number>): ArrayBuffer {
  const u = uniformOf(d);
  const fields = u?.fields ?? [];
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(bytes);
  const bad = (why: string) => new GpuError('invalid-argument', `${d.name} uniforms: ${why}`);
  for (const name of Object.keys(values)) {
    if (!fields.some((f) => f.name === name)) throw bad(`no field ${name}`);
  }
  fields.forEach((f, i) => {
    const v = values[f.name];
    if (typeof v !== 'number') throw bad(`${f.name} is missing`);
    const at = i * 4;
    if (f.type === 'f32') {
      if (!Number.isFinite(v)) throw bad(`${f.name} = ${v} is not a finite number`);
      view.setFloat32(at, v, true);
    } else if (f.type === 'u32') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw bad(`${f.name} = ${v} not a u32`);
      view.setUint32(at, v, true);
    } else {
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
        throw bad(`${f.name} = ${v} not an i32`);
      }
      view.setInt32(at, v, true);
    }
  });
  return bytes;
}

/** `constants` checked against `d`'s overrides (name and type), as numbers for the pipeline. */
function overrideValues(
  d: KernelDescriptor,
  constants: Record<string, number | boolean>,
): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [name, v] of Object.entries(constants) as [string, number | boolean][]) {
    const o = d.overrides.find((x) => x.name === name);
    if (!o) throw new GpuError('invalid-argument', `${d.name} has no override ${name}`);
    const n = typeof v === 'boolean' ? Number(v) : v;
    if (o.type === 'u32' && !(Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff)) {
      throw new GpuError('invalid-argument', `${d.name}: override ${name} = ${v} is not a u32`);
    }
    if (o.type === 'bool' && typeof v !== 'boolean') {
      throw new GpuError('invalid-argument', `${d.name}: override ${name} must be a boolean`);
    }
    values[name] = n;
  }
  return values;
}

const compiled = new WeakMap<GPUDevice, Map<string, Promise<CompiledKernel>>>();

/**
 * Compiles kernels from descriptors (once per device and set of constants) and encodes their
 * dispatches. Each dispatch takes a fresh uniform buffer from the context's pool; `release()`
 * returns them once the work that used them has been submitted and finished.
 */
export class KernelEncoder {
  readonly #ctx: GpuContext;
  readonly #scratch: GPUBuffer[] = [];

  constructor(ctx: GpuContext) {
    this.#ctx = ctx;
  }

  /** The pipeline of `d` with its override `constants` (omitted ones keep the shader's
   * defaults); concurrent and repeated requests share one compilation. */
  compile<D extends KernelDescriptor>(
    d: D,
    constants: Partial<Record<OverrideNames<D>, number | boolean>> = {},
  ): Promise<CompiledKernel<D>> {
    let values: Record<string, number>;
    try {
      values = overrideValues(d, constants as Record<string, number | boolean>);
    } catch (e) {
      return Promise.reject(e);
    }
    const device = this.#ctx.device;
    let cache = compiled.get(device);
    if (!cache) {
      cache = new Map();
      compiled.set(device, cache);
    }
    const key = `${d.name}|${JSON.stringify(Object.entries(values).sort())}`;
    let p = cache.get(key);
    if (!p) {
      p = build(device, d, values, key);
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p as Promise<CompiledKernel<D>>;
  }

  /**
   * Encodes one dispatch of `k` into `pass`: binds `buffers` by binding name, packs `uniforms`
   * (packUniforms) into a fresh uniform buffer, dispatches `groups` workgroups.
   */
  encode<D extends KernelDescriptor>(
    pass: GPUComputePassEncoder,
    k: CompiledKernel<D>,
    buffers: Record<BufferNames<D>, GPUBuffer>,
    uniforms: Record<UniformNames<D>, number>,
    groups: readonly [number, number?, number?],
  ): void {
    const d = k.descriptor;
    const given = buffers as Record<string, GPUBuffer | undefined>;
    const entries: GPUBindGroupEntry[] = [];
    const names = new Set<string>();
    for (const b of d.bindings) {
      names.add(b.name);
      if (b.kind === 'uniform') {
        const data = packUniforms(d, uniforms as Record<string, number>);
        const u = this.#ctx.buffers.acquire(
          data.byteLength,
          GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
          `${d.name} uniforms`,
        );
        this.#ctx.device.queue.writeBuffer(u, 0, data);
        this.#scratch.push(u);
        entries.push({ binding: b.binding, resource: { buffer: u, size: data.byteLength } });
      } else {
        const buffer = given[b.name];
        if (!buffer) throw new GpuError('invalid-argument', `${d.name}: no buffer for ${b.name}`);
        entries.push({ binding: b.binding, resource: { buffer } });
      }
    }
    for (const name of Object.keys(given)) {
      if (!names.has(name)) throw new GpuError('invalid-argument', `${d.name} has no ${name}`);
    }
    // WebGPU refuses a buffer bound writable and again in the same dispatch, but only later, as
    // an uncaptured validation error: refuse it here, by name.
    for (const b of d.bindings) {
      if (b.kind !== 'read_write') continue;
      const other = d.bindings.find(
        (o) => o !== b && o.kind !== 'uniform' && given[o.name] === given[b.name],
      );
      if (other) {
        throw new GpuError(
          'invalid-argument',
          `${d.name}: ${b.name} is written and also bound as ${other.name}`,
        );
      }
    }
    const max = this.#ctx.device.limits.maxComputeWorkgroupsPerDimension;
    const g = [groups[0], groups[1] ?? 1, groups[2] ?? 1] as const;
    if (g.some((n) => !Number.isInteger(n) || n < 0 || n > max)) {
      throw new GpuError('too-large', `${d.name}: ${g.join('×')} workgroups (at most ${max} each)`);
    }
    const bindGroup = this.#ctx.device.createBindGroup({
      label: d.name,
      layout: k.layout,
      entries,
    });
    pass.setPipeline(k.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...g);
  }

  /** Returns the uniform buffers of everything encoded so far to the pool. */
  release(): void {
    for (const b of this.#scratch.splice(0)) this.#ctx.buffers.release(b);
  }
}

async function build<D extends KernelDescriptor>(
  device: GPUDevice,
  d: D,
  constants: Record<string, number>,
  label: string,
): Promise<CompiledKernel<D>> {
  const layout = device.createBindGroupLayout({
    label: d.name,
    entries: d.bindings.map((b) => ({
      binding: b.binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: {
        type:
          b.kind === 'uniform' ? 'uniform' : b.kind === 'read' ? 'read-only-storage' : 'storage',
      },
    })),
  });
  const module = device.createShaderModule({ label, code: d.source });
  device.pushErrorScope('validation');
  let pipeline: GPUComputePipeline | undefined;
  let cause: unknown;
  try {
    pipeline = await device.createComputePipelineAsync({
      label,
      layout: device.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main', constants },
    });
  } catch (e) {
    cause = e;
  }
  const scoped = await device.popErrorScope();
  if (!pipeline || scoped) {
    const info = await module.getCompilationInfo().catch(() => undefined);
    const detail = info?.messages
      .map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}`)
      .join('\n');
    throw new GpuError(
      'shader-compile',
      `${label}: ${detail || scoped?.message || String(cause)}`,
      { cause: cause ?? scoped },
    );
  }
  return { descriptor: d, pipeline, layout };
}
