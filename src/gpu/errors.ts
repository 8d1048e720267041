/** Why a compute engine's operation failed (WebGPU or CPU): every error thrown by src/gpu,
 * src/cpu and the model runners on them carries one of these. */
export type EngineErrorCode =
  | 'webgpu-unavailable' // no navigator.gpu and no Node binding
  | 'no-adapter' // WebGPU exists but requestAdapter() returned null
  | 'device-request-failed'
  | 'device-lost'
  | 'out-of-memory'
  | 'too-large' // a buffer would exceed the adapter's limits
  | 'invalid-argument'
  | 'shader-compile';

/** The GPU engine's codes are every engine's. */
export type GpuErrorCode = EngineErrorCode;

/**
 * A typed failure of a compute engine: `code` is stable for programs, `message` is for people.
 * Each engine throws its own subclass (GpuError here, CpuError in src/cpu/errors.ts), so a
 * message names the engine that failed; code that does not care catches this one.
 */
export class EngineError extends Error {
  override readonly name: string = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A typed failure of the WebGPU engine. */
export class GpuError extends EngineError {
  override readonly name = 'GpuError';
}

/** Names of the engine errors (EngineError and its subclasses), as they cross a Worker. */
export const ENGINE_ERROR_NAMES: readonly string[] = ['EngineError', 'GpuError', 'CpuError'];

/** True when `e` is an engine error of any engine, also across a comlink boundary (where only
 * fields survive). */
export function isEngineError(e: unknown, code?: EngineErrorCode): e is EngineError {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { name?: unknown; code?: unknown };
  return (
    ENGINE_ERROR_NAMES.includes(err.name as string) && (code === undefined || err.code === code)
  );
}

/** True when `e` is a GpuError, also across a comlink boundary (where only fields survive). */
export function isGpuError(e: unknown, code?: GpuErrorCode): e is GpuError {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { name?: unknown; code?: unknown };
  return err.name === 'GpuError' && (code === undefined || err.code === code);
}
