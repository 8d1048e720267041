/**
 * How big a model this tab fetches and loads unless told otherwise (bytes, all its files): a
 * contributor's default `maxModelBytes` for jobs it takes and for models it receives. A tab's
 * memory holds the checkpoint and the engine's copy of its weights at once, so the default stays
 * well under what a browser grants one page (4 GiB of WebAssembly memory at most), and above
 * the small models researchers bring most: SmolLM2-135M as its repository ships it (BF16,
 * 269 MB), all-MiniLM-L6-v2 (F32, 91 MB). A 0.5 B-parameter model (about 1 GB in BF16) needs a
 * contributor that raises it.
 */
export const DEFAULT_MAX_MODEL_BYTES = 512 * 2 ** 20; // bytes
