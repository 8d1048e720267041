/**
 * sentence-transformers' pooling: modules.json names the modules applied after the transformer,
 * 1_Pooling/config.json (or wherever modules.json points) how token states become one vector.
 */

import { parseJsonObject } from './config';
import { CheckpointError } from './errors';
import type { CheckpointFiles } from './files';
import type { ModelConfig, PoolingConfig } from './types';

/**
 * sentence-transformers' modules.json: a Transformer, then a Pooling module (its config.json in
 * the module's folder), then optionally Normalize. Any other module (Dense, ...) changes the
 * embedding in ways tessel does not compute, so it is refused.
 */
export async function readPooling(
  files: CheckpointFiles,
  config: ModelConfig,
): Promise<{ config: PoolingConfig; files: string[] }> {
  const modulesFile = 'modules.json';
  let modules: unknown;
  try {
    modules = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(await files.read(modulesFile)),
    );
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError('json', modulesFile, '', `not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(modules))
    throw new CheckpointError('json', modulesFile, '', 'must be a list of modules');
  let poolingPath: string | undefined;
  let normalize = false;
  for (const [i, m] of modules.entries()) {
    const type = (m as { type?: unknown } | null)?.type;
    const path = (m as { path?: unknown } | null)?.path;
    if (type === 'sentence_transformers.models.Transformer') continue;
    if (type === 'sentence_transformers.models.Normalize') normalize = true;
    else if (
      type === 'sentence_transformers.models.Pooling' &&
      poolingPath === undefined &&
      typeof path === 'string' &&
      /^[\w.-]+$/.test(path) &&
      path !== '..' &&
      path !== '.'
    )
      poolingPath = path;
    else
      throw new CheckpointError(
        'unsupported',
        modulesFile,
        `[${i}].type`,
        `module ${JSON.stringify(type)} at ${JSON.stringify(path)} is not supported`,
      );
  }
  if (poolingPath === undefined)
    throw new CheckpointError('missing-file', modulesFile, '', 'no Pooling module');
  const file = `${poolingPath}/config.json`;
  const p = parseJsonObject(file, await files.read(file));
  const hidden = config.family === 'gpt2' ? config.nEmbd : config.hiddenSize;
  if (p.word_embedding_dimension !== hidden) {
    throw new CheckpointError(
      'config-value',
      file,
      'word_embedding_dimension',
      `${JSON.stringify(p.word_embedding_dimension)} is not the model's width ${hidden}`,
    );
  }
  const modes: Record<string, PoolingConfig['mode'] | null> = {
    pooling_mode_cls_token: 'cls',
    pooling_mode_mean_tokens: 'mean',
    pooling_mode_max_tokens: 'max',
    pooling_mode_lasttoken: 'lasttoken',
    pooling_mode_mean_sqrt_len_tokens: null,
    pooling_mode_weightedmean_tokens: null,
  };
  const on = Object.keys(modes).filter((k) => p[k] === true);
  for (const k of Object.keys(modes)) {
    if (p[k] !== undefined && typeof p[k] !== 'boolean')
      throw new CheckpointError('config-value', file, k, 'must be true or false');
  }
  if (on.length !== 1 || modes[on[0]!] === null) {
    throw new CheckpointError(
      'unsupported',
      file,
      on.join(', ') || 'pooling_mode_*',
      'exactly one of cls, mean, max or lasttoken pooling is supported',
    );
  }
  if (p.include_prompt !== undefined && p.include_prompt !== true) {
    throw new CheckpointError('unsupported', file, 'include_prompt', 'must be true');
  }
  return { config: { mode: modes[on[0]!]!, normalize }, files: [file] };
}
