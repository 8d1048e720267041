import { CpuProjector } from '../cpu/projector';
import { type Projector, projectJs } from '../gpu/projection';
import { log } from '../log/log';

const trace = log('mesh:verifier');

/**
 * The owner's matmul checks on this tab: Freivalds' projections on the CPU engine's float64
 * SIMD kernels (src/cpu/projector.ts), compiled on the first check; float64 JavaScript where
 * this JavaScript engine runs no WebAssembly SIMD. On the thread that owns the jobs, whatever
 * engine the tab lends: a check needs float64, which WGSL does not have (src/gpu/projector.ts
 * projects in float32, with bounds widened to match), and is milliseconds. The last job's A and
 * B stay in the kernels' memory until another job's check needs it.
 */
export class OwnerVerifier {
  #cpu: Promise<CpuProjector | undefined> | undefined;

  /** A `Projector` for the owner's jobs. */
  readonly project: Projector = async (req) => {
    this.#cpu ??= CpuProjector.create().catch((e) => {
      trace.error('the CPU engine cannot project (%s): checks run in JavaScript', e);
      return undefined;
    });
    const cpu = await this.#cpu;
    if (cpu) {
      try {
        return cpu.project(req);
      } catch (e) {
        // Out of memory in the kernels, a helper thread gone: the check still happens.
        trace.error('the CPU projector failed (%s): this check runs in JavaScript', e);
      }
    }
    return projectJs(req);
  };
}
