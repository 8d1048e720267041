import type { JobAnswer } from '../jobs/job';
import type { JobSpec } from '../jobs/kinds';
import { writeNpy } from '../model/npy';
import { type GeneratedText, textsJsonl, verifiedPart } from './format';

// The files a researcher downloads from a job's answer: pure, so the jobs view only offers them.

/** What Mesh.answer gives for a job: its answer (unverified parts 0), which parts are verified
 * (a byte per element of C, or per sequence; 1 = verified), and whether all of it is. */
export interface AnswerSoFar {
  answer: JobAnswer;
  mask: Uint8Array;
  complete: boolean;
}

/** A file to offer for download. */
export interface JobFile {
  name: string;
  bytes: Uint8Array;
}

/** The answer's values and their shape: C (m×n), or logits (sequences × vocab). */
function valuesOf(js: JobSpec, answer: JobAnswer): { values: Float32Array; shape: number[] } {
  if (js.kind === 'matmul' && answer.kind === 'matmul') {
    return { values: answer.c, shape: [js.spec.m, js.spec.n] };
  }
  if (js.kind === 'inference' && answer.kind === 'inference' && js.spec.mode === 'logits') {
    const n = js.spec.sequences.length;
    return { values: answer.logits, shape: [n, answer.logits.length / n] };
  }
  throw new TypeError(`a ${js.kind} job's answer of kind ${answer.kind} has no values to save`);
}

/** A finished job's values as .npy (float32): `C-<job>.npy` or `logits-<job>.npy`. */
export function valuesFile(jobId: string, js: JobSpec, answer: JobAnswer): JobFile {
  const { values, shape } = valuesOf(js, answer);
  return { name: `${nameOf(js)}-${jobId}.npy`, bytes: writeNpy(values, shape) };
}

/**
 * What a job verified so far, as two .npy files: its values with every unverified one 0
 * (float32, `…-verified.npy`), and the mask (uint8, 1 = verified; C's shape for a matmul, one
 * per sequence for logits: `mask-<job>.npy`).
 */
export function verifiedFiles(jobId: string, js: JobSpec, got: AnswerSoFar): [JobFile, JobFile] {
  const { values, shape } = valuesOf(js, got.answer);
  const rowLength = js.kind === 'matmul' ? 1 : shape[1]!;
  const maskShape = js.kind === 'matmul' ? shape : [shape[0]!];
  return [
    {
      name: `${nameOf(js)}-${jobId}-verified.npy`,
      bytes: writeNpy(verifiedPart(values, got.mask, rowLength), shape),
    },
    { name: `mask-${jobId}.npy`, bytes: writeNpy(got.mask, maskShape) },
  ];
}

/**
 * The prompt and continuation of each verified sequence of a generation job, in words of the
 * model's `vocab` (an id outside it reads "?"). Empty for a job that generates no text.
 */
export function generatedTexts(
  js: JobSpec,
  got: AnswerSoFar,
  vocab: readonly string[],
): GeneratedText[] {
  const { answer } = got;
  if (js.kind !== 'inference' || answer.kind !== 'inference' || js.spec.mode !== 'tokens') {
    return [];
  }
  const steps = js.spec.steps;
  const word = (ids: ArrayLike<number>) => Array.from(ids, (t) => vocab[t] ?? '?').join('');
  return js.spec.sequences.flatMap((seq, i) =>
    got.complete || got.mask[i] === 1
      ? [
          {
            sequence: i,
            prompt: word(seq),
            continuation: word(answer.tokens.subarray(i * steps, (i + 1) * steps)),
          },
        ]
      : [],
  );
}

/** Generated texts as `texts-<job>.jsonl` (see textsJsonl). */
export function textsFile(jobId: string, texts: readonly GeneratedText[]): JobFile {
  return { name: `texts-${jobId}.jsonl`, bytes: new TextEncoder().encode(textsJsonl(texts)) };
}

function nameOf(js: JobSpec): string {
  return js.kind === 'matmul' ? 'C' : 'logits';
}
