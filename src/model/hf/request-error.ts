/**
 * The error of a generate / embed / score / logits request that a loaded model cannot serve as
 * asked: a malformed request, input too long for the model, or the wrong task for its family.
 * (A bad checkpoint is a CheckpointError, a bad tokenizer or chat template a TokenizerError.)
 */

export type RequestErrorCode =
  | 'invalid-request' // a field missing, of the wrong type or out of range
  | 'too-long' // input longer than the model's positions (embed with truncate: false, score, ...)
  | 'wrong-task' // generate or score on an embedder, embed on a generator
  | 'unknown-model'; // no model with that digest is loaded

export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
