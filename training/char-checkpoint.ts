// The shipped character model as an ordinary Hugging Face GPT-2 checkpoint: config.json,
// model.safetensors (GPT-2's own tensor names, Conv1D weights stored [in, out], the head tied to
// wte), a character-level tokenizer.json, tokenizer_config.json and generation_config.json.
// training/train.ts writes its model through this, so `npm run train` yields a folder that
// tessel, transformers and tokenizers all load as they load any GPT-2 checkpoint.
import { writeSafetensors } from '../src/model/safetensors';

/** The trained model's shape, in config.json's GPT-2 terms. */
export interface CharModelShape {
  nEmbd: number;
  nHead: number;
  nLayer: number;
  nInner: number;
  nPositions: number;
  layerNormEpsilon: number;
}

/** A float32 tensor by Hugging Face name (`wte.weight`, `h.0.attn.c_attn.weight`, ...). */
export type NamedTensors = Record<string, { shape: number[]; data: Float32Array }>;

/**
 * The character that stands for begin/end of text: the newline (the training text is one verse
 * a line), as GPT-2 uses its one `<|endoftext|>` token for both.
 */
export const CHAR_EOS = '\n';

/** Defaults the page's generation starts from (generation_config.json). */
export const CHAR_GENERATION = {
  do_sample: true,
  temperature: 0.8,
  top_k: 0, // no top-k cut: the alphabet is small
  max_new_tokens: 48, // within the 64-position context after a short prompt
} as const;

const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

/**
 * A tokenizer.json whose tokens are the characters of `alphabet` (ids in its order): a BPE model
 * with no merges, no normalizer, no pre-tokenizer, so every character is one token, and the Fuse
 * decoder, which joins tokens with nothing between (without a decoder tokenizers joins them with
 * spaces). A character outside the alphabet has no token and no unk to stand for it: tokenizers
 * (Python and JavaScript alike) drop it, so callers that must not lose text check for it
 * (src/ui/shipped-model.ts does).
 */
export function charTokenizerJson(alphabet: readonly string[]): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  alphabet.forEach((ch, i) => {
    if ([...ch].length !== 1) throw new RangeError(`${JSON.stringify(ch)} is not one character`);
    if (Object.hasOwn(vocab, ch)) throw new RangeError(`${JSON.stringify(ch)} appears twice`);
    vocab[ch] = i;
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

/** The newline's id: begin and end of text. */
function eosOf(alphabet: readonly string[]): number {
  const eos = alphabet.indexOf(CHAR_EOS);
  if (eos < 0) throw new RangeError('the alphabet has no newline to end a text with');
  return eos;
}

/** config.json's keys for a character model of this shape (GPT2Config's names). */
export function charConfigJson(
  alphabet: readonly string[],
  shape: CharModelShape,
): Record<string, unknown> {
  const eos = eosOf(alphabet);
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: alphabet.length,
    n_positions: shape.nPositions,
    n_ctx: shape.nPositions,
    n_embd: shape.nEmbd,
    n_head: shape.nHead,
    n_layer: shape.nLayer,
    n_inner: shape.nInner,
    // The model was trained with GELU's tanh form (src/model/gpt-tf.ts), which is gelu_new.
    activation_function: 'gelu_new',
    layer_norm_epsilon: shape.layerNormEpsilon,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    initializer_range: 0.02,
    scale_attn_weights: true,
    tie_word_embeddings: true,
    use_cache: true,
    bos_token_id: eos,
    eos_token_id: eos,
    torch_dtype: 'float32',
  };
}

/** Every file of the checkpoint folder, by name. */
export function charCheckpointFiles(
  alphabet: readonly string[],
  shape: CharModelShape,
  tensors: NamedTensors,
  metadata: Record<string, string> = {},
): Record<string, Uint8Array> {
  const eos = eosOf(alphabet);
  const ids = { bos_token_id: eos, eos_token_id: eos };
  return {
    'config.json': json(charConfigJson(alphabet, shape)),
    'generation_config.json': json({ ...ids, pad_token_id: eos, ...CHAR_GENERATION }),
    'tokenizer.json': json(charTokenizerJson(alphabet)),
    'tokenizer_config.json': json({
      tokenizer_class: 'PreTrainedTokenizerFast',
      model_max_length: shape.nPositions,
      bos_token: CHAR_EOS,
      eos_token: CHAR_EOS,
      clean_up_tokenization_spaces: false,
    }),
    // transformers refuses a safetensors file whose metadata lacks format "pt".
    'model.safetensors': writeSafetensors(tensors, { format: 'pt', ...metadata }),
  };
}
