import { EngineError } from '../gpu/errors';

/** A typed failure of the CPU engine (src/cpu, and the Hugging Face runner on it): the codes
 * every engine's errors share (EngineErrorCode). */
export class CpuError extends EngineError {
  override readonly name = 'CpuError';
}
