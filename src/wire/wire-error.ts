export type WireErrorCode =
  | 'too-large' // the frame is over its size limit
  | 'malformed' // not a protobuf of the expected message
  | 'bad-version'
  | 'invalid-field' // a field is missing, out of range, or inconsistent with another
  | 'idle' // a stream sent nothing for too long
  | 'flood'; // a peer asked again far sooner than it was told to

/** Network input that failed validation. `field` names the first offending field. */
export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly code: WireErrorCode,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
