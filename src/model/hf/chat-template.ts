/**
 * Chat templates: tokenizer_config.json's `chat_template` (Jinja) rendered by @huggingface/jinja
 * with the variables transformers' apply_chat_template binds: `messages`, `add_generation_prompt`,
 * `tools`, the special tokens by content (`bos_token`, `eos_token`, `unk_token`, `pad_token`,
 * `additional_special_tokens`) and any extra keyword (Qwen 3's `enable_thinking`); the library
 * supplies `raise_exception`, `strftime_now` and `range`. A template that is missing, does not
 * parse or raises is a TokenizerError naming tokenizer_config.json's `chat_template`.
 */
import { Template } from '@huggingface/jinja';
import { TokenizerError } from './tokenizer';

export interface ChatMessage {
  role: string;
  content: string;
  /** Other fields (tool_calls, reasoning_content) are passed to the template as they are. */
  [field: string]: unknown;
}

export interface ChatTemplateOptions {
  /** Append the header that starts the assistant's turn (what generation continues from). */
  addGenerationPrompt?: boolean; // default false, as in transformers
  /** For a list of named templates: the one to use; default 'tool_use' when tools are given, else 'default'. */
  templateName?: string;
  /** Tool (function) descriptions, bound as `tools` (undefined when absent, as in transformers). */
  tools?: unknown[];
  /** A template that overrides the config's (transformers' `chat_template=` argument). */
  chatTemplate?: string;
  /** More variables for the template, e.g. `{ enable_thinking: false }`. */
  extra?: Record<string, unknown>;
}

const TC = 'tokenizer_config.json';
const FIELD = 'chat_template';

const fail = (message: string, cause?: unknown): never => {
  throw new TokenizerError('chat-template', TC, FIELD, message, cause ? { cause } : undefined);
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Picks the template source as transformers' get_chat_template does. */
function templateSource(config: Record<string, unknown>, options: ChatTemplateOptions): string {
  if (options.chatTemplate !== undefined) return options.chatTemplate;
  const t = config.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = new Map<string, string>();
    for (const [i, e] of t.entries()) {
      if (!isObject(e) || typeof e.name !== 'string' || typeof e.template !== 'string')
        fail(`entry ${i} is not {"name": string, "template": string}`);
      named.set(e.name as string, e.template as string);
    }
    const name =
      options.templateName ?? (options.tools && named.has('tool_use') ? 'tool_use' : 'default');
    return (
      named.get(name) ??
      fail(`no template named ${JSON.stringify(name)} (has ${[...named.keys()].join(', ')})`)
    );
  }
  return fail(
    t == null
      ? 'the tokenizer has no chat template'
      : 'is neither a string nor a list of named templates',
  );
}

/** A special token's content (a string or an AddedToken object), as transformers binds it. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/**
 * Renders `messages` with the tokenizer's chat template. Returns the prompt as text; encode it
 * with `addSpecialTokens: false`, since the template writes BOS itself where the model wants it.
 */
export function applyChatTemplate(
  tokenizerConfig: unknown,
  messages: readonly ChatMessage[],
  options: ChatTemplateOptions = {},
): string {
  checkMessages(messages);
  return chatRenderer(tokenizerConfig, options)(messages);
}

/**
 * The chat template parsed once, as a function of the messages (what applyChatTemplate does per
 * call): for rendering many conversations with the same options, e.g. a data set's rows.
 */
export function chatRenderer(
  tokenizerConfig: unknown,
  options: ChatTemplateOptions = {},
): (messages: readonly ChatMessage[]) => string {
  const config = isObject(tokenizerConfig) ? tokenizerConfig : {};
  const source = templateSource(config, options);
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    return fail(`does not parse: ${(e as Error).message}`, e);
  }
  const special: Record<string, unknown> = {};
  for (const key of [
    'bos_token',
    'eos_token',
    'unk_token',
    'pad_token',
    'sep_token',
    'cls_token',
    'mask_token',
  ]) {
    const c = tokenContent(config[key]);
    if (c !== undefined) special[key] = c;
  }
  if (Array.isArray(config.additional_special_tokens))
    special.additional_special_tokens = config.additional_special_tokens.map(tokenContent);
  return (messages) => {
    checkMessages(messages);
    try {
      return template.render({
        ...special,
        ...options.extra,
        messages,
        tools: options.tools,
        add_generation_prompt: options.addGenerationPrompt ?? false,
      });
    } catch (e) {
      return fail(`failed to render: ${(e as Error).message}`, e);
    }
  };
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages)) fail('messages is not a list');
  for (const [i, m] of messages.entries())
    if (!isObject(m) || typeof m.role !== 'string') fail(`message ${i} has no string role`);
}
