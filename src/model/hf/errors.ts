/**
 * The one error a Hugging Face checkpoint that tessel cannot run raises: it names the file and
 * the field (a config key, a tensor name) to blame, so a person can fix their folder.
 */

export type CheckpointErrorCode =
  | 'missing-file' // a file the checkpoint needs is not in the folder
  | 'fetch' // a file could not be fetched from its URL (network, server error, a bad name)
  | 'json' // a file is not the JSON object it must be
  | 'unsupported' // a model_type, architecture, activation or rope scaling tessel does not run
  | 'config-value' // a config value missing, of the wrong type or out of range
  | 'dtype' // a tensor stored in a dtype other than F32, F16 or BF16
  | 'missing-tensor' // a tensor the architecture needs is absent
  | 'unknown-tensor' // a tensor the architecture does not use (and is no known harmless buffer)
  | 'duplicate-tensor' // the same tensor in two shards, or under two names
  | 'tensor-shape' // a tensor whose shape disagrees with config.json
  | 'safetensors'; // the file itself is malformed (see the SafetensorsError in `cause`)

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly code: CheckpointErrorCode,
    /** The file to blame, relative to the checkpoint folder (`config.json`, a shard). */
    readonly file: string,
    /** The config key or tensor name to blame; '' when the whole file is. */
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}${field ? ` (${field})` : ''}: ${message}`, options);
  }
}
