/**
 * Starts a module Worker from `url`, also when the script came from another origin than the
 * page's. Browsers refuse `new Worker(crossOriginUrl)`, so a page that embeds tessel from
 * another site gets a same-origin blob: module whose only line imports the real worker script;
 * the import is an ordinary CORS module fetch (the script's server must send
 * Access-Control-Allow-Origin), and the worker's own imports resolve against its real URL.
 */
export function spawnModuleWorker(url: string | URL, name?: string): Worker {
  const abs = new URL(url, import.meta.url);
  const options: WorkerOptions = { type: 'module', ...(name ? { name } : {}) };
  if (abs.origin === globalThis.location?.origin) return new Worker(abs, options);
  const shim = new Blob([`import ${JSON.stringify(abs.href)};\n`], { type: 'text/javascript' });
  const blobUrl = URL.createObjectURL(shim);
  const worker = new Worker(blobUrl, options);
  // The worker fetches its script asynchronously: the URL must outlive construction.
  setTimeout(() => URL.revokeObjectURL(blobUrl), 60_000);
  return worker;
}

/** How a compute Worker is started. */
export interface ComputeSpawnOptions {
  /** Install fault injection (src/worker/faults.ts) in it: for end-to-end tests only (the page
   * asks with `?faults` in its URL). */
  faults?: boolean;
}

/** The compute Worker's name; with fault injection, this plus FAULTS_SUFFIX. */
export const COMPUTE_WORKER_NAME = 'tessel-compute';
const FAULTS_SUFFIX = '+faults';

/**
 * The name a compute Worker is spawned with, which is how it learns its options (`self.name`)
 * before its first message: unlike a query on its script's URL, a name survives the
 * cross-origin shim, and DevTools shows it.
 */
export function computeWorkerName(options: ComputeSpawnOptions = {}): string {
  return options.faults ? COMPUTE_WORKER_NAME + FAULTS_SUFFIX : COMPUTE_WORKER_NAME;
}

/** The options a compute Worker named `name` was spawned with. */
export function computeSpawnOptions(name: string): ComputeSpawnOptions {
  return { faults: name.endsWith(FAULTS_SUFFIX) };
}
