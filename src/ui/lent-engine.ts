import type { EngineKind } from '../worker/api';
import type { ComputeClient } from '../worker/client';
import { hardwareGpu } from '../worker/engine-choice';
import type { TabSession } from './session';

/** The engine this tab lends: its session's (chosen, or predicted before measuring), else a
 * hardware GPU if there is one, else the CPU engine (a software adapter's GPU never wins). */
export async function lentEngine(
  session: TabSession | undefined,
  compute: ComputeClient,
): Promise<EngineKind> {
  const view = await session?.adapter();
  if (view?.available) return view.engine;
  return hardwareGpu(await compute.info()) ? 'webgpu' : 'cpu';
}

/** Switches the Worker to the engine this tab lends (the one a join would switch it to), so
 * what the page's own runs measure is what volunteers lend; where that engine cannot start,
 * the current one runs. Returns the engine that runs. */
export async function useLentEngine(
  session: TabSession | undefined,
  compute: ComputeClient,
): Promise<EngineKind> {
  const engine = await lentEngine(session, compute);
  const now = (await compute.info()).engine;
  if (now === engine) return engine;
  return compute.setEngine(engine).then(
    (info) => info.engine,
    () => now,
  );
}
