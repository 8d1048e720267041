/** The model shipped with the app (public/models/kjv-char/): its files and its alphabet. */
export interface ShippedModel {
  file: Uint8Array; // safetensors
  config: unknown; // config.json, validated by whoever loads it
  vocab: string[]; // token id → character
  maxSeq: number;
}

/**
 * Fetches the shipped model's files on first use and hands the same copy to every view that
 * asks (the "Try the model" form and the researcher's inference form); a failed fetch is
 * tried again on the next use.
 */
export function shippedModel(base = 'models/kjv-char/'): () => Promise<ShippedModel> {
  let loading: Promise<ShippedModel> | undefined;
  const load = async (): Promise<ShippedModel> => {
    const [file, config, vocab] = await Promise.all([
      fetch(`${base}model.safetensors`).then((r) => r.arrayBuffer()),
      fetch(`${base}config.json`).then((r) => r.json() as Promise<unknown>),
      fetch(`${base}vocab.json`).then((r) => r.json() as Promise<string[]>),
    ]);
    return {
      file: new Uint8Array(file),
      config,
      vocab,
      maxSeq: Number((config as { maxSeq?: unknown }).maxSeq),
    };
  };
  return () => {
    loading ??= load().catch((e) => {
      loading = undefined;
      throw e;
    });
    return loading;
  };
}

/** Token ids of `text` in the model's alphabet, or the characters it has never seen. */
export function encodeText(vocab: string[], text: string): Uint32Array | { unknown: string[] } {
  const unknown = [...new Set(text)].filter((ch) => !vocab.includes(ch));
  if (unknown.length) return { unknown };
  return Uint32Array.from(Array.from(text, (ch) => vocab.indexOf(ch)));
}
