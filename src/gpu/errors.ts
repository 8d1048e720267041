/** Why a GPU operation failed; every error thrown by src/gpu is one of these. */
export type GpuErrorCode =
  | 'webgpu-unavailable' // no navigator.gpu and no Node binding
  | 'no-adapter' // WebGPU exists but requestAdapter() returned null
  | 'device-request-failed'
  | 'device-lost'
  | 'out-of-memory'
  | 'too-large' // a buffer would exceed the adapter's limits
  | 'invalid-argument'
  | 'shader-compile';

/** A typed GPU failure: `code` is stable for programs, `message` is for people. */
export class GpuError extends Error {
  override readonly name = 'GpuError';
  constructor(
    readonly code: GpuErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `e` is a GpuError, also across a comlink boundary (where only fields survive). */
export function isGpuError(e: unknown, code?: GpuErrorCode): e is GpuError {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { name?: unknown; code?: unknown };
  return err.name === 'GpuError' && (code === undefined || err.code === code);
}
