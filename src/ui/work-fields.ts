import { defaultPolicy, type InferencePolicy, shardFlops } from '../jobs/inference-spec';
import { MAX_DIM } from '../jobs/limits';
import { matmulFlops } from '../jobs/price';
import type { InferenceRequest } from '../mesh/mesh';
import { type Matrix, readMatrix } from '../model/matrix-file';
import { TensorFileError } from '../model/npy';
import { InputError, percent, requiredInt } from './form-input';
import { describeError, formatBytes } from './format';
import type { EstimateInputs } from './payment-fields';
import { encodeText, type ShippedModel } from './shipped-model';

// The work part of the researcher's forms (`<tessel-researcher>`): the matrices and the
// prompts, read and checked for submitting, and the FLOPs the job would be paid for, for the
// estimate while the researcher types.

// The largest side the form takes is MAX_DIM (src/jobs/limits.ts), as for a shard; a job spec
// allows up to MAX_JOB_DIM.

/** Most prompts one inference job takes from the form. */
const MAX_PROMPTS = 1_024;

/** The largest matrix file the form takes, whatever the device. */
export const MAX_MATRIX_BYTES = 2 ** 30; // bytes
/** The share of the device's memory (navigator.deviceMemory, 4 GiB when unknown) one matrix
 * file may take. */
export const MATRIX_MEMORY_SHARE = 1 / 8;

/**
 * Largest matrix file this browser is asked to hold: A, B and C stay in the researcher's tab
 * (and its IndexedDB, so a reload resumes the job) until the job ends.
 */
export function maxMatrixBytes(): number {
  const gib = (navigator as Navigator & { deviceMemory?: number }).deviceMemory ?? 4;
  return Math.min(MAX_MATRIX_BYTES, gib * 2 ** 30 * MATRIX_MEMORY_SHARE);
}

/** Reads and checks one uploaded matrix; a refusal names the file and says why. */
export async function readUpload(
  form: HTMLFormElement,
  name: string,
  label: string,
): Promise<Matrix> {
  const file = (form.elements.namedItem(name) as HTMLInputElement | null)?.files?.[0];
  if (!file) throw new InputError(`Choose a file for ${label}.`);
  const limit = maxMatrixBytes();
  if (file.size > limit) {
    throw new InputError(
      `${label} (${file.name}) is ${formatBytes(file.size)}; this browser can hold at most ${formatBytes(limit)} per matrix.`,
    );
  }
  try {
    return readMatrix(new Uint8Array(await file.arrayBuffer()));
  } catch (e) {
    if (e instanceof TensorFileError) {
      throw new InputError(`${label} (${file.name}) is refused: ${e.message}.`);
    }
    throw e;
  }
}

/** The matmul C = A·B of two uploaded matrices; an InputError when their shapes do not fit
 * or a side is over MAX_DIM. */
export function uploadedProblem(a: Matrix, b: Matrix) {
  if (a.cols !== b.rows) {
    throw new InputError(
      `A is ${a.rows}×${a.cols} and B is ${b.rows}×${b.cols}: A's columns must equal B's rows.`,
    );
  }
  for (const [name, mat] of [['A', a] as const, ['B', b] as const]) {
    if (mat.rows > MAX_DIM || mat.cols > MAX_DIM) {
      throw new InputError(`${name} is ${mat.rows}×${mat.cols}: at most ${MAX_DIM} a side.`);
    }
  }
  return { a: a.data, b: b.data, m: a.rows, k: a.cols, n: b.cols };
}

/** A field's value as typed, untrimmed (a prompt's spaces are part of it). */
function rawValue(form: HTMLFormElement, name: string): string {
  return (
    (form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement | null)?.value ?? ''
  );
}

/** The inference form's prompts, one a line, empty lines left out. */
export function readPrompts(form: HTMLFormElement): string[] {
  return rawValue(form, 'prompts')
    .split('\n')
    .filter((line) => line.length > 0);
}

/** The rest of the inference form's work, read and checked for submitting: the request but
 * its model. An InputError says which field is wrong. */
export function readInference(
  form: HTMLFormElement,
  texts: string[],
  mode: 'tokens' | 'logits',
  model: ShippedModel,
): Omit<InferenceRequest, 'model'> {
  if (texts.length === 0 || texts.length > MAX_PROMPTS) {
    throw new InputError(`Type 1 to ${MAX_PROMPTS.toLocaleString('en')} prompts, one a line.`);
  }
  const sequences: Uint32Array[] = [];
  for (const t of texts) {
    const ids = encodeText(model.tokenizer, t);
    if ('unknown' in ids) {
      throw new InputError(
        `The model has never seen ${ids.unknown.map((c) => JSON.stringify(c)).join(', ')}: use plain letters and punctuation.`,
      );
    }
    sequences.push(ids);
  }
  // In tokens, as the model's tokenizer counts them (one a character for the shipped model).
  const longest = Math.max(...sequences.map((q) => q.length));
  if (longest > model.maxSeq) {
    throw new InputError(`A prompt is longer than the model's context of ${model.maxSeq} tokens.`);
  }
  const steps =
    mode === 'tokens'
      ? requiredInt(form, 'steps', 1, model.maxSeq - longest + 1, 'Characters to generate')
      : 0;
  const temperature = mode === 'tokens' ? Number(rawValue(form, 'temperature')) : 0;
  if (!(temperature >= 0 && temperature <= 2)) {
    throw new InputError('Temperature must be a number from 0 to 2.');
  }
  const policy: Partial<InferencePolicy> = {
    copies: requiredInt(form, 'copies', 1, 3, 'Copies that must agree'),
    canaryRate: percent(form, 'canary', 'Canary shards'),
    spotCheckRate: percent(form, 'spot', 'Shards the owner re-checks'),
  };
  return {
    sequences,
    output: mode === 'logits' ? { mode } : { mode, steps, temperature },
    policy,
  };
}

type Work = Pick<EstimateInputs, 'flops' | 'note'>;

/** Matmul work from the sizes typed, or the uploads' shapes once read. */
export function matmulWork(
  source: 'upload' | 'random',
  field: (name: string) => string,
  shapes: ReadonlyMap<string, Matrix>,
): Work {
  if (source === 'random') {
    const [m, k, n] = ['m', 'k', 'n'].map((f) => Number(field(f))) as [number, number, number];
    const ok = [m, k, n].every((d) => Number.isInteger(d) && d >= 1 && d <= MAX_DIM);
    return ok
      ? { flops: matmulFlops(m, k, n) }
      : { note: `Sizes from 1 to ${MAX_DIM} give the total.` };
  }
  const a = shapes.get('a');
  const b = shapes.get('b');
  if (!a || !b) return { note: 'The total is shown once A and B are chosen and read.' };
  if (a.cols !== b.rows) return { note: "The total is shown once A's columns equal B's rows." };
  return { flops: matmulFlops(a.rows, a.cols, b.cols) };
}

/** Inference work from the shipped model's shape (src/jobs' shardFlops over every
 * sequence), times the copies paid for and the canary shards. */
export function inferenceWork(
  model: ShippedModel | undefined,
  mode: 'tokens' | 'logits',
  field: (name: string) => string,
): Work {
  if (!model)
    return { note: 'The total depends on the model: it is shown once this form is used.' };
  const sequences: Uint32Array[] = [];
  for (const t of field('prompts')
    .split('\n')
    .filter((line) => line.length > 0)) {
    const ids = encodeText(model.tokenizer, t);
    if ('unknown' in ids || ids.length > model.maxSeq)
      return { note: 'Fix the prompts to see the total.' };
    sequences.push(ids);
  }
  if (sequences.length === 0) return { note: 'Type prompts to see the total.' };
  const steps = mode === 'tokens' ? Number(field('steps')) : 0;
  const copies = Number(field('copies'));
  const canaryRate = Number(field('canary')) / 100;
  if (
    !(
      Number.isInteger(steps) &&
      Number.isInteger(copies) &&
      copies >= 1 &&
      canaryRate >= 0 &&
      canaryRate <= 1
    )
  ) {
    return { note: 'Fix the settings to see the total.' };
  }
  try {
    const spec = {
      modelDigest: '',
      model: model.summary,
      sequences,
      mode,
      steps,
      temperature: 0,
      seed: 0,
      perShard: sequences.length,
      policy: { ...defaultPolicy(mode), copies, canaryRate },
    };
    const work = shardFlops(spec, { sequences: sequences.map((_, i) => i), canary: false });
    return {
      flops: work * copies * (1 + canaryRate),
      note: `${copies} cop${copies === 1 ? 'y' : 'ies'} paid${canaryRate > 0 ? ', canary shards about included' : ''}`,
    };
  } catch (e) {
    return { note: `The total depends on the model: ${describeError(e)}` };
  }
}
