// Every Hugging Face kernel's interface, declared once: its WGSL source, its bindings (index,
// access, element type), its uniform struct's fields in order, and its override constants.
// kernel.ts builds the bind group layout, packs the uniform buffer and binds buffers by name from
// these; tests/unit/gpu/hf-gpu-kernels.test.ts parses each shader's declarations and checks them
// against its descriptor, so the two cannot drift apart.

import attentionGqaWgsl from '../../../shaders/hf/attention_gqa.wgsl?raw';
import embeddingTtWgsl from '../../../shaders/hf/embedding_tt.wgsl?raw';
import geluErfWgsl from '../../../shaders/hf/gelu_erf.wgsl?raw';
import geluTanhWgsl from '../../../shaders/hf/gelu_tanh.wgsl?raw';
import layernormWgsl from '../../../shaders/hf/layernorm.wgsl?raw';
import linear16Wgsl from '../../../shaders/hf/linear16.wgsl?raw';
import poolWgsl from '../../../shaders/hf/pool.wgsl?raw';
import rmsnormWgsl from '../../../shaders/hf/rmsnorm.wgsl?raw';
import ropeWgsl from '../../../shaders/hf/rope.wgsl?raw';
import swigluWgsl from '../../../shaders/hf/swiglu.wgsl?raw';
import weightsWgsl from '../../../shaders/hf/weights.wgsl?raw';

/** A scalar member of a uniform struct (4 bytes, 4-byte aligned in WGSL's layout). */
export type UniformScalar = 'u32' | 'f32' | 'i32';

/** A storage buffer: `array<element>`. `weights` marks a tensor read through weights.wgsl
 * (u32 words holding F32, F16 or BF16 values, as the WEIGHT_FORMAT override says). */
export interface StorageBinding {
  readonly binding: number;
  readonly name: string;
  readonly kind: 'read' | 'read_write';
  readonly element: 'f32' | 'u32';
  readonly weights?: boolean;
}

/** The uniform buffer: a struct of scalars, packed by kernel.ts in this order. */
export interface UniformBinding {
  readonly binding: number;
  readonly name: string;
  readonly kind: 'uniform';
  readonly struct: string;
  readonly fields: readonly { readonly name: string; readonly type: UniformScalar }[];
}

/** A WGSL `override` constant, set when the pipeline is created. */
export interface OverrideConstant {
  readonly name: string;
  readonly type: 'u32' | 'bool';
}

export interface KernelDescriptor {
  /** Names the pipeline in errors and labels. */
  readonly name: string;
  /** shaders/hf files, concatenated in this order, that make the module. */
  readonly files: readonly string[];
  readonly source: string;
  readonly bindings: readonly (StorageBinding | UniformBinding)[];
  readonly overrides: readonly OverrideConstant[];
}

/** Storage buffer names of a descriptor (what `encode` binds). */
export type BufferNames<D extends KernelDescriptor> = Extract<
  D['bindings'][number],
  { kind: 'read' | 'read_write' }
>['name'];
/** Uniform field names of a descriptor (what `encode` packs). */
export type UniformNames<D extends KernelDescriptor> = Extract<
  D['bindings'][number],
  { kind: 'uniform' }
>['fields'][number]['name'];
/** Override constant names of a descriptor. */
export type OverrideNames<D extends KernelDescriptor> = D['overrides'][number]['name'];

const SOURCES: Record<string, string> = {
  'weights.wgsl': weightsWgsl,
  'rmsnorm.wgsl': rmsnormWgsl,
  'layernorm.wgsl': layernormWgsl,
  'rope.wgsl': ropeWgsl,
  'swiglu.wgsl': swigluWgsl,
  'gelu_erf.wgsl': geluErfWgsl,
  'gelu_tanh.wgsl': geluTanhWgsl,
  'linear16.wgsl': linear16Wgsl,
  'attention_gqa.wgsl': attentionGqaWgsl,
  'embedding_tt.wgsl': embeddingTtWgsl,
  'pool.wgsl': poolWgsl,
};

function kernel<const D extends Omit<KernelDescriptor, 'source'>>(d: D): D & { source: string } {
  return { ...d, source: d.files.map((f) => SOURCES[f]!).join('\n') };
}

const read = <const N extends string>(binding: number, name: N, element: 'f32' | 'u32' = 'f32') =>
  ({ binding, name, kind: 'read', element }) as const;
const write = <const N extends string>(binding: number, name: N) =>
  ({ binding, name, kind: 'read_write', element: 'f32' }) as const;
const weights = <const N extends string>(binding: number, name: N) =>
  ({ binding, name, kind: 'read', element: 'u32', weights: true }) as const;
/** The kernel's uniform struct `struct`, bound at `binding` as `name`, with `fields` in order. */
const uniform = <const N extends string, const F extends UniformBinding['fields']>(
  binding: number,
  name: N,
  struct: string,
  fields: F,
) => ({ binding, name, kind: 'uniform', struct, fields }) as const;
const WEIGHT_FORMAT = { name: 'WEIGHT_FORMAT', type: 'u32' } as const;
const WG = { name: 'WG', type: 'u32' } as const;

export const RMSNORM = kernel({
  name: 'rmsnorm',
  files: ['weights.wgsl', 'rmsnorm.wgsl'],
  bindings: [
    read(0, 'x'),
    weights(1, 'w'),
    write(2, 'y'),
    uniform(3, 'dims', 'RmsNormDims', [
      { name: 'rows', type: 'u32' },
      { name: 'dim', type: 'u32' },
      { name: 'eps', type: 'f32' },
    ]),
  ],
  overrides: [WEIGHT_FORMAT, WG],
});

export const LAYERNORM = kernel({
  name: 'layernorm',
  files: ['weights.wgsl', 'layernorm.wgsl'],
  bindings: [
    read(0, 'x'),
    weights(1, 'w'),
    weights(2, 'bias'),
    write(3, 'y'),
    uniform(4, 'dims', 'LayerNormDims', [
      { name: 'rows', type: 'u32' },
      { name: 'dim', type: 'u32' },
      { name: 'eps', type: 'f32' },
    ]),
  ],
  overrides: [WEIGHT_FORMAT, WG],
});

export const ROPE = kernel({
  name: 'rope',
  files: ['rope.wgsl'],
  bindings: [
    write(0, 'x'),
    read(1, 'positions', 'u32'),
    read(2, 'turns'),
    uniform(3, 'dims', 'RopeDims', [
      { name: 'tokens', type: 'u32' },
      { name: 'heads', type: 'u32' },
      { name: 'headDim', type: 'u32' },
    ]),
  ],
  overrides: [],
});

export const SWIGLU = kernel({
  name: 'swiglu',
  files: ['swiglu.wgsl'],
  bindings: [
    write(0, 'gate'),
    read(1, 'up'),
    uniform(2, 'dims', 'SwigluDims', [{ name: 'n', type: 'u32' }]),
  ],
  overrides: [],
});

export const GELU_ERF = kernel({
  name: 'gelu_erf',
  files: ['gelu_erf.wgsl'],
  bindings: [write(0, 'x'), uniform(1, 'dims', 'GeluDims', [{ name: 'n', type: 'u32' }])],
  overrides: [],
});

export const GELU_TANH = kernel({
  name: 'gelu_tanh',
  files: ['gelu_tanh.wgsl'],
  bindings: [write(0, 'x'), uniform(1, 'dims', 'GeluDims', [{ name: 'n', type: 'u32' }])],
  overrides: [],
});

export const LINEAR16 = kernel({
  name: 'linear16',
  files: ['weights.wgsl', 'linear16.wgsl'],
  bindings: [
    read(0, 'x'),
    weights(1, 'w'),
    weights(2, 'bias'),
    write(3, 'y'),
    uniform(4, 'dims', 'LinearDims', [
      { name: 'rows', type: 'u32' },
      { name: 'inDim', type: 'u32' },
      { name: 'outDim', type: 'u32' },
    ]),
  ],
  overrides: [WEIGHT_FORMAT, { name: 'HAS_BIAS', type: 'bool' }, { name: 'CONV1D', type: 'bool' }],
});

export const ATTENTION_GQA = kernel({
  name: 'attention_gqa',
  files: ['attention_gqa.wgsl'],
  bindings: [
    read(0, 'q'),
    read(1, 'k'),
    read(2, 'v'),
    read(3, 'valid', 'u32'),
    write(4, 'out'),
    uniform(5, 'dims', 'AttentionDims', [
      { name: 'tokens', type: 'u32' },
      { name: 'heads', type: 'u32' },
      { name: 'kvHeads', type: 'u32' },
      { name: 'headDim', type: 'u32' },
      { name: 'capacity', type: 'u32' },
      { name: 'past', type: 'u32' },
      { name: 'window', type: 'u32' },
      { name: 'causal', type: 'u32' },
      { name: 'scale', type: 'f32' },
    ]),
  ],
  overrides: [WG],
});

export const EMBEDDING_TT = kernel({
  name: 'embedding_tt',
  files: ['weights.wgsl', 'embedding_tt.wgsl'],
  bindings: [
    read(0, 'tokenIds', 'u32'),
    read(1, 'positionIds', 'u32'),
    read(2, 'typeIds', 'u32'),
    weights(3, 'word'),
    weights(4, 'position'),
    weights(5, 'tokenType'),
    write(6, 'out'),
    uniform(7, 'dims', 'EmbeddingDims', [
      { name: 'rows', type: 'u32' },
      { name: 'dim', type: 'u32' },
      { name: 'vocab', type: 'u32' },
      { name: 'positions', type: 'u32' },
      { name: 'types', type: 'u32' },
    ]),
  ],
  overrides: [WEIGHT_FORMAT],
});

export const POOL = kernel({
  name: 'pool',
  files: ['pool.wgsl'],
  bindings: [
    read(0, 'hidden'),
    read(1, 'mask', 'u32'),
    write(2, 'out'),
    uniform(3, 'dims', 'PoolDims', [
      { name: 'batch', type: 'u32' },
      { name: 'seq', type: 'u32' },
      { name: 'dim', type: 'u32' },
      { name: 'mode', type: 'u32' },
      { name: 'normalize', type: 'u32' },
    ]),
  ],
  overrides: [WG],
});

/** Every kernel, for the descriptor-against-shader test. */
export const HF_KERNELS: readonly KernelDescriptor[] = [
  RMSNORM,
  LAYERNORM,
  ROPE,
  SWIGLU,
  GELU_ERF,
  GELU_TANH,
  LINEAR16,
  ATTENTION_GQA,
  EMBEDDING_TT,
  POOL,
];

/** shaders/hf files that hold functions only (no entry point, no binding). */
export const HF_SHADER_LIBRARIES: readonly string[] = ['weights.wgsl'];
