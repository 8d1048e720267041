import { parseConfig, parseJsonObject } from '../model/hf/config';
import { type ModelSummary, modelSummary } from '../model/hf/cost';
import { filesFromUrl } from '../model/hf/files';
import { type HfTokenizer, loadTokenizer } from '../model/hf/tokenizer';
import type { CheckpointFileMap } from '../worker/api';

/** Where the app serves the model it ships (public/models/kjv-char/: a GPT-2 checkpoint with a
 * character-level tokenizer.json, trained by `npm run train`), relative to the page. */
export const SHIPPED_MODEL_URL = 'models/kjv-char/';

/** The shipped model's name, as caches and lists show it. */
export const SHIPPED_MODEL_NAME = 'kjv-char';

/** The model shipped with the app: its checkpoint's files, tokenizer and shape. */
export interface ShippedModel {
  name: string;
  /** Every file of the checkpoint folder (what loadModel and the mesh take). */
  files: CheckpointFileMap;
  tokenizer: HfTokenizer;
  /** Family, vocabulary, context and cost shape (src/model/hf/cost.ts), from config.json. */
  summary: ModelSummary;
  /** Longest sequence the model takes, in tokens (= characters). */
  maxSeq: number;
  /** Token id → its text (one character each), for showing generated ids. */
  vocab: string[];
}

/**
 * Fetches the shipped checkpoint on first use (through src/model/hf/files.ts filesFromUrl, as
 * any model URL) and hands the same copy to every view that asks; a failed fetch is tried again
 * on the next use. `fetcher` defaults to the global fetch.
 */
export function shippedModel(
  base = SHIPPED_MODEL_URL,
  fetcher: typeof fetch = (...a) => fetch(...a),
): () => Promise<ShippedModel> {
  let loading: Promise<ShippedModel> | undefined;
  return () => {
    loading ??= loadShipped(base, fetcher).catch((e) => {
      loading = undefined;
      throw e;
    });
    return loading;
  };
}

async function loadShipped(base: string, fetcher: typeof fetch): Promise<ShippedModel> {
  const href = typeof document === 'undefined' ? base : new URL(base, document.baseURI).href;
  const source = await filesFromUrl(href, { fetch: notHtml(fetcher) });
  const files: CheckpointFileMap = {};
  for (const name of source.list()) files[name] = await source.read(name);
  const json = (name: string) => {
    const bytes = files[name];
    return bytes ? parseJsonObject(name, bytes) : undefined;
  };
  const config = parseConfig(json('config.json') ?? {});
  const tokenizer = loadTokenizer(json('tokenizer.json'), json('tokenizer_config.json'));
  const summary = modelSummary(config);
  const vocab = Array.from({ length: summary.vocab }, (_, i) => tokenizer.idToToken(i) ?? '');
  return {
    name: SHIPPED_MODEL_NAME,
    files,
    tokenizer,
    summary,
    maxSeq: summary.maxPositions,
    vocab,
  };
}

/**
 * A fetch that answers 404 where a server sent an HTML page for a checkpoint file: a static
 * server with a single-page-app fallback (Vite's, for one) serves index.html with 200 for any
 * path, which would otherwise read as a chat_template.jinja or special_tokens_map.json.
 */
function notHtml(fetcher: typeof fetch): typeof fetch {
  return async (input, init) => {
    const res = await fetcher(input, init);
    const type = res.headers.get('content-type') ?? '';
    return res.ok && type.startsWith('text/html') ? new Response(null, { status: 404 }) : res;
  };
}

/**
 * Token ids of `text` under the model's tokenizer, or the characters it has no token for. The
 * character tokenizer has no unknown token, so tokenizers (Python and JavaScript alike) drop
 * such characters; here they are found and named instead, so no prompt loses text silently.
 */
export function encodeText(
  tokenizer: HfTokenizer,
  text: string,
): Uint32Array | { unknown: string[] } {
  const unknown = [...new Set(text)].filter(
    (ch) => tokenizer.encode(ch, { addSpecialTokens: false }).length === 0,
  );
  if (unknown.length) return { unknown };
  return Uint32Array.from(tokenizer.encode(text, { addSpecialTokens: false }));
}
