// Checks shared by the checkpoint loader's tests (tests/unit/model/hf-checkpoint*.test.ts): load
// from in-memory files, expect a typed refusal naming the file and field, expect every value back.
import { expect } from 'vitest';
import { type Checkpoint, canonicalName, loadCheckpoint } from '../../src/model/hf/checkpoint';
import { CheckpointError } from '../../src/model/hf/errors';
import { filesFromMap } from '../../src/model/hf/files';

/** Loads a checkpoint from in-memory files. */
export const load = (files: Map<string, Uint8Array>) => loadCheckpoint(filesFromMap(files));
/** JSON bytes of `v`. */
export const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** The CheckpointError a bad folder raises; fails the test if it loads. */
export async function refusal(files: Map<string, Uint8Array>): Promise<CheckpointError> {
  try {
    await load(files);
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('the checkpoint loaded');
}

/** The folder is refused with `code`, naming `file` and `field` (in the message too). */
export async function expectRefused(
  files: Map<string, Uint8Array>,
  code: CheckpointError['code'],
  file: string,
  field: string | RegExp,
) {
  const e = await refusal(files);
  expect({ code: e.code, file: e.file }).toEqual({ code, file });
  if (typeof field === 'string') expect(e.field).toBe(field);
  else expect(e.field).toMatch(field);
  expect(e.message).toContain(file);
  if (e.field) expect(e.message).toContain(e.field);
}

/** Every stored tensor's values come back exactly under its canonical name. */
export function expectValues(ck: Checkpoint, values: Map<string, Float64Array>) {
  let checked = 0;
  for (const [stored, v] of values) {
    const name = canonicalName(ck.config, stored);
    if (name === null) continue;
    expect(ck.weights.f64(name), name).toEqual(v);
    checked++;
  }
  expect(checked).toBe(ck.weights.names().length);
}

/** A stored llama tensor's shape, from the config (for hand-built shards). */
export function shapeOf(name: string, c: Record<string, unknown>): number[] {
  const d = c.hidden_size as number;
  const kv = (c.num_key_value_heads as number) * (d / (c.num_attention_heads as number));
  const f = c.intermediate_size as number;
  if (/embed_tokens|lm_head/.test(name)) return [c.vocab_size as number, d];
  if (/layernorm|model\.norm/.test(name)) return [d];
  if (/[kv]_proj/.test(name)) return [kv, d];
  if (/[qo]_proj/.test(name)) return [d, d];
  if (/gate_proj|up_proj/.test(name)) return [f, d];
  if (/down_proj/.test(name)) return [d, f];
  throw new Error(name);
}
