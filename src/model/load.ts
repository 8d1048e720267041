import { sha256Hex } from '../gpu/digest';
import { type GptConfig, type GptWeights, gptWeightsFrom, parseGptConfig } from './gpt';
import { readSafetensors } from './safetensors';

export interface LoadedModel {
  config: GptConfig;
  weights: GptWeights;
  /** Hex SHA-256 of the config and the weights file: what jobs name the model by. */
  digest: string;
}

/** The config as the digest hashes it: validated, then JSON in a fixed field order. */
export function canonicalConfig(raw: unknown): string {
  return JSON.stringify(parseGptConfig(raw));
}

/** A model's content digest: SHA-256 of its canonical config's UTF-8 bytes, then the file. */
export async function modelDigest(configJson: string, file: Uint8Array): Promise<string> {
  const configBytes = new TextEncoder().encode(configJson);
  const all = new Uint8Array(configBytes.length + file.length);
  all.set(configBytes);
  all.set(file, configBytes.length);
  return sha256Hex(all);
}

/**
 * Validates a model (safetensors bytes + its JSON config) and names it by content, so owners and
 * contributors can tell they hold the same one. Throws SafetensorsError or ModelConfigError.
 */
export async function loadGpt(file: Uint8Array, rawConfig: unknown): Promise<LoadedModel> {
  const config = parseGptConfig(rawConfig);
  const weights = gptWeightsFrom(readSafetensors(file).tensors, config);
  return { config, weights, digest: await modelDigest(JSON.stringify(config), file) };
}
