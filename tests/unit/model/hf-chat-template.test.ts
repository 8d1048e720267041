/**
 * Chat templates (src/model/hf/chat-template.ts) of real tokenizer configs (Llama 3, Qwen 3),
 * against the strings Python jinja2 renders as transformers' apply_chat_template sets it up.
 */
import { describe, expect, test } from 'vitest';
import { applyChatTemplate, type ChatMessage } from '../../../src/model/hf/chat-template';
import { llama3, qwen3, thrown } from '../../support/real-tokenizers';

describe('chat templates', () => {
  const chat: ChatMessage[] = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Hi! 你好 😀' },
  ];
  // Expected strings: rendered by Python jinja2 as transformers' apply_chat_template sets it up.
  test("Llama 3's template: bos_token bound, headers, <|eot_id|>", () => {
    expect(applyChatTemplate(llama3.config, chat, { addGenerationPrompt: true })).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi! 你好 😀<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  test("Qwen 3's template: generation prompt, enable_thinking, reasoning kept only after the last query, tools", () => {
    const base =
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi! 你好 😀<|im_end|>\n';
    expect(applyChatTemplate(qwen3.config, chat)).toBe(base);
    expect(applyChatTemplate(qwen3.config, chat, { addGenerationPrompt: true })).toBe(
      `${base}<|im_start|>assistant\n`,
    );
    expect(
      applyChatTemplate(qwen3.config, chat, {
        addGenerationPrompt: true,
        extra: { enable_thinking: false },
      }),
    ).toBe(`${base}<|im_start|>assistant\n<think>\n\n</think>\n\n`);
    const turns = [
      ...chat,
      { role: 'assistant', content: '<think>\nShort.\n</think>\n\nHello.' },
      { role: 'user', content: 'Again' },
      { role: 'assistant', content: '<think>\nStill short.\n</think>\n\nHello again.' },
    ];
    expect(applyChatTemplate(qwen3.config, turns)).toBe(
      `${base}<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nAgain<|im_end|>\n` +
        '<|im_start|>assistant\n<think>\nStill short.\n</think>\n\nHello again.<|im_end|>\n',
    );
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather in a city',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
          },
        },
      },
    ];
    expect(
      applyChatTemplate(qwen3.config, [{ role: 'user', content: 'Weather in Paris?' }], {
        tools,
        addGenerationPrompt: true,
      }),
    ).toBe(
      '<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n' +
        'You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n' +
        '{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": ' +
        '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}\n</tools>\n\n' +
        'For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n' +
        '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n' +
        '<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  test('the rendered prompt encodes to the special ids, not their spelling', () => {
    const ids = qwen3.tokenizer.encode(
      applyChatTemplate(qwen3.config, chat, { addGenerationPrompt: true }),
      {
        addSpecialTokens: false,
      },
    );
    expect(ids.filter((id) => id === 151644).length).toBe(3);
    expect(ids.filter((id) => id === 151645).length).toBe(2);
  });

  test('a named list picks "default", or "tool_use" when tools are given', () => {
    const config = {
      bos_token: { content: '<s>' },
      chat_template: [
        {
          name: 'default',
          template:
            '{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}',
        },
        { name: 'tool_use', template: '{{ tools | length }} tool(s)' },
      ],
    };
    expect(applyChatTemplate(config, chat)).toBe('<s>[system]You are terse.[user]Hi! 你好 😀');
    expect(applyChatTemplate(config, chat, { tools: [{}] })).toBe('1 tool(s)');
    expect(thrown(() => applyChatTemplate(config, chat, { templateName: 'rag' })).field).toBe(
      'chat_template',
    );
  });

  test.each([
    ['no template', {}],
    ['not a template', { chat_template: 42 }],
    ['does not parse', { chat_template: '{% if %}' }],
    ['raises', { chat_template: "{{ raise_exception('System role not supported') }}" }],
    ['bad list entry', { chat_template: [{ name: 'default' }] }],
  ])('%s → TokenizerError', (_name, config) => {
    const e = thrown(() => applyChatTemplate(config, chat));
    expect([e.code, e.file, e.field]).toEqual([
      'chat-template',
      'tokenizer_config.json',
      'chat_template',
    ]);
    if (_name === 'raises') expect(e.message).toContain('System role not supported');
  });
});
