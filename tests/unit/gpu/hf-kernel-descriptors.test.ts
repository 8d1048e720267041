// Each Hugging Face kernel's descriptor (src/gpu/hf/descriptor.ts) against its shader's
// declarations (shaders/hf), and the uniforms it packs: no device needed (a descriptor the
// device refuses: hf-gpu-kernels.test.ts).

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  ATTENTION_GQA,
  HF_KERNELS,
  HF_SHADER_LIBRARIES,
  type KernelDescriptor,
  RMSNORM,
} from '../../../src/gpu/hf/descriptor';
import { packUniforms } from '../../../src/gpu/hf/kernel';

// ---- descriptors against shaders --------------------------------------------------------

/** The declarations of a WGSL module, parsed from its text (comments removed). */
function parseWgsl(source: string) {
  const code = source.replace(/\/\/[^\n]*/g, '');
  const bindings = [
    ...code.matchAll(
      /@group\((\d+)\)\s*@binding\((\d+)\)\s*var(?:<([^>]*)>)?\s+(\w+)\s*:\s*([^;]+);/g,
    ),
  ].map(([, group, binding, space, name, type]) => ({
    group: Number(group),
    binding: Number(binding),
    space: space!.replace(/\s+/g, ''),
    name: name!,
    type: type!.replace(/\s+/g, ''),
  }));
  const structs = new Map(
    [...code.matchAll(/struct\s+(\w+)\s*\{([^}]*)\}/g)].map(([, name, body]) => [
      name!,
      [...body!.matchAll(/(\w+)\s*:\s*([\w<>]+)/g)].map(([, f, t]) => ({ name: f!, type: t! })),
    ]),
  );
  const overrides = [...code.matchAll(/override\s+(\w+)\s*:\s*(\w+)/g)].map(([, name, type]) => ({
    name: name!,
    type: type!,
  }));
  return { bindings, structs, overrides, entryPoints: code.match(/@compute/g)?.length ?? 0 };
}

describe('kernel descriptors match their shaders', () => {
  const dir = 'shaders/hf';
  const files = readdirSync(dir).filter((f) => f.endsWith('.wgsl'));

  test('every shaders/hf file is one kernel of one descriptor, or a library of functions', () => {
    const kernels = HF_KERNELS.map((d) => d.files.at(-1)!);
    expect(new Set(kernels).size).toBe(kernels.length);
    expect([...kernels, ...HF_SHADER_LIBRARIES].sort()).toEqual([...files].sort());
    for (const lib of HF_SHADER_LIBRARIES) {
      const parsed = parseWgsl(readFileSync(`${dir}/${lib}`, 'utf8'));
      expect([parsed.bindings.length, parsed.entryPoints]).toEqual([0, 0]);
    }
  });

  test.each(HF_KERNELS.map((d) => [d.name, d] as const))('%s', (_, d: KernelDescriptor) => {
    // The module the descriptor compiles is exactly its files, as on disk.
    expect(d.source).toBe(d.files.map((f) => readFileSync(`${dir}/${f}`, 'utf8')).join('\n'));
    const wgsl = parseWgsl(d.source);
    expect(wgsl.entryPoints).toBe(1);
    const declared = d.bindings.map((b) => {
      if (b.kind === 'uniform') {
        return { group: 0, binding: b.binding, space: 'uniform', name: b.name, type: b.struct };
      }
      const space = b.kind === 'read' ? 'storage,read' : 'storage,read_write';
      return { group: 0, binding: b.binding, space, name: b.name, type: `array<${b.element}>` };
    });
    const byBinding = (a: { binding: number }, b: { binding: number }) => a.binding - b.binding;
    expect(wgsl.bindings.sort(byBinding)).toEqual(declared.sort(byBinding));
    for (const b of d.bindings) {
      if (b.kind === 'uniform') {
        expect(wgsl.structs.get(b.struct), b.struct).toEqual(
          b.fields.map((f) => ({ name: f.name, type: f.type })),
        );
      } else if (b.weights) {
        // Weight tensors are read through weights.wgsl, under its WEIGHT_FORMAT override.
        expect(d.files).toContain('weights.wgsl');
        expect(d.source).toMatch(new RegExp(`weightValue\\(${b.name}\\[`));
      }
    }
    expect(wgsl.overrides.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      d.overrides.map((o) => ({ ...o })).sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  test('uniforms pack in declared order, 4 bytes each, rounded to 16; bad values are refused', () => {
    const bytes = packUniforms(RMSNORM, { rows: 3, dim: 7, eps: 1e-6 });
    expect(bytes.byteLength).toBe(16);
    const view = new DataView(bytes);
    expect([view.getUint32(0, true), view.getUint32(4, true)]).toEqual([3, 7]);
    expect(view.getFloat32(8, true)).toBe(Math.fround(1e-6));
    const attention = packUniforms(ATTENTION_GQA, {
      tokens: 1,
      heads: 2,
      kvHeads: 3,
      headDim: 4,
      capacity: 5,
      past: 6,
      window: 7,
      causal: 8,
      scale: 0.5,
    });
    expect(attention.byteLength).toBe(48); // 9 scalars, 36 bytes, rounded up to 16
    expect(Array.from(new Uint32Array(attention, 0, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new DataView(attention).getFloat32(32, true)).toBe(0.5);
    const bads: Record<string, number>[] = [
      { rows: 3, dim: 7 },
      { rows: 3, dim: 7, eps: 1e-6, extra: 1 },
      { rows: -1, dim: 7, eps: 1e-6 },
      { rows: 2 ** 32, dim: 7, eps: 1e-6 },
      { rows: 1.5, dim: 7, eps: 1e-6 },
      { rows: 3, dim: 7, eps: Number.NaN },
    ];
    for (const bad of bads) {
      expect(() => packUniforms(RMSNORM, bad)).toThrow(
        expect.objectContaining({ code: 'invalid-argument' }),
      );
    }
  });
});
