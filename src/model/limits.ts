/**
 * How big a model this tab fetches and loads unless told otherwise (bytes, all its files): a
 * contributor's default `maxModelBytes` for jobs it takes and for models it receives. A tab's
 * memory holds the checkpoint and the engine's copy of its weights at once, so the default stays
 * well under what a browser grants one page.
 */
export const DEFAULT_MAX_MODEL_BYTES = 256 * 2 ** 20; // bytes
