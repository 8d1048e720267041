/** See gpu-env.mjs. */
export function nodeGpuEnv(env: NodeJS.ProcessEnv): Record<string, string>;
