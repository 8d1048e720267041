import { GpuError } from './errors';

/**
 * Fill `{{NAME}}` knobs in a WGSL source. Knobs are compile-time constants only (tile sizes,
 * workgroup sizes); a missing or unused knob is a programming error and throws.
 */
export function specialize(source: string, knobs: Record<string, number>): string {
  const used = new Set<string>();
  const code = source.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = knobs[name];
    if (v === undefined || !Number.isInteger(v) || v < 0) {
      throw new GpuError('invalid-argument', `WGSL knob {{${name}}} needs a non-negative integer`);
    }
    used.add(name);
    return String(v);
  });
  for (const name of Object.keys(knobs)) {
    if (!used.has(name)) throw new GpuError('invalid-argument', `WGSL has no knob {{${name}}}`);
  }
  return code;
}

/** Compiles each (source, knobs) once per device; concurrent requests share one compilation. */
export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #pipelines = new Map<string, Promise<GPUComputePipeline>>();

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  get size(): number {
    return this.#pipelines.size;
  }

  /** A compute pipeline with entry point `main` and an auto layout. */
  get(label: string, source: string, knobs: Record<string, number>): Promise<GPUComputePipeline> {
    const key = `${label}|${JSON.stringify(knobs)}`;
    let p = this.#pipelines.get(key);
    if (!p) {
      p = this.#compile(`${label} ${JSON.stringify(knobs)}`, specialize(source, knobs));
      this.#pipelines.set(key, p);
      p.catch(() => this.#pipelines.delete(key));
    }
    return p;
  }

  async #compile(label: string, code: string): Promise<GPUComputePipeline> {
    const module = this.#device.createShaderModule({ label, code });
    try {
      return await this.#device.createComputePipelineAsync({
        label,
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
      });
    } catch (cause) {
      const info = await module.getCompilationInfo().catch(() => undefined);
      const detail = info?.messages
        .map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}`)
        .join('\n');
      throw new GpuError('shader-compile', `${label}: ${detail || String(cause)}`, { cause });
    }
  }
}
