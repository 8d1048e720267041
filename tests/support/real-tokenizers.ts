// The real tokenizer files of tests/fixtures/tokenizers (Llama 3, Qwen 3) loaded for the
// tokenizer and chat-template tests, with the ids Python `tokenizers` gave for them.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { loadTokenizer, TokenizerError } from '../../src/model/hf/tokenizer';

// Real tokenizer.json files (Llama 3, Qwen 3), gzipped; see tests/fixtures/tokenizers/README.md.
export const DIR = 'tests/fixtures/tokenizers';
// biome-ignore lint/suspicious/noExplicitAny: the tests read and mutate parsed JSON field by field
export type Json = Record<string, any>;
export const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8'));
/** A real tokenizer's parsed files and the tokenizer loaded from them. */
const real = (name: 'llama3' | 'qwen3') => {
  const json = JSON.parse(
    gunzipSync(readFileSync(`${DIR}/${name}/tokenizer.json.gz`)).toString('utf8'),
  );
  const config = readJson(`${DIR}/${name}/tokenizer_config.json`);
  return { json: json as Json, config, tokenizer: loadTokenizer(json, config) };
};
export const llama3 = real('llama3');
export const qwen3 = real('qwen3');

/** Ids that Python `tokenizers` (the Rust reference) gave for mixedLines(3000): see tests/fixtures/tokenizers/README.md. */
export const reference = JSON.parse(
  gunzipSync(readFileSync(`${DIR}/reference-ids.json.gz`)).toString('utf8'),
) as {
  tokenizers_version: string;
  lines: string[];
  llama3: number[][];
  qwen3: number[][];
  /** Python's decode(ids, skip_special_tokens=True) of each line's ids. */
  llama3_skip_special: string[];
  qwen3_skip_special: string[];
};

/** The TokenizerError `f` throws; fails the test if it throws none. */
export function thrown(f: () => unknown): TokenizerError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TokenizerError);
    return e as TokenizerError;
  }
  throw new Error('expected a TokenizerError');
}
