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
