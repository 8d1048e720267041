/** Compiles assembly/kernels.ts into src/cpu/generated/ unless it is up to date; true if it built. */
export function buildWasm(options?: { force?: boolean }): boolean;
export const VARIANTS: Record<string, string[]>;
export const MAX_PAGES: number;
