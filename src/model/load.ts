import { sha256Hex } from '../gpu/digest';
import { type GptConfig, type GptWeights, gptWeightsFrom, parseGptConfig } from './gpt';
import { readSafetensors } from './safetensors';

export interface LoadedModel {
  config: GptConfig;
  weights: GptWeights;
  /** Hex SHA-256 of the config and the weights file: what jobs name the model by. */
  digest: string;
}

/**
 * Validates a model (safetensors bytes + its JSON config) and names it by content, so owners and
 * contributors can tell they hold the same one. Throws SafetensorsError or ModelConfigError.
 */
export async function loadGpt(file: Uint8Array, rawConfig: unknown): Promise<LoadedModel> {
  const config = parseGptConfig(rawConfig);
  const weights = gptWeightsFrom(readSafetensors(file).tensors, config);
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const all = new Uint8Array(configBytes.length + file.length);
  all.set(configBytes);
  all.set(file, configBytes.length);
  return { config, weights, digest: await sha256Hex(all) };
}
