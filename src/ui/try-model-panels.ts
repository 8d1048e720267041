import { html, nothing } from 'lit';
import type { EngineKind, GenerateRequest, Generation, ModelInfo } from '../worker/api';
import { fieldValue, InputError, requiredInt } from './form-input';
import { formatBytes } from './format';
import { formatParams, formatSimilarity, similarityColour } from './try-model';

// The panels of `<tessel-try-model>` (try-model-view.ts) once a model is loaded: what it is,
// Generate for decoders, Embed for encoders; templates over the view's state, and the
// Generate form read into a request. The view keeps the state and runs the calls.

/** The most new tokens one Generate asks for. */
export const MAX_NEW_TOKENS_LIMIT = 1024;
/** What the max-new-tokens field starts at. */
const DEFAULT_NEW_TOKENS = 64;

/** What the view is doing: nothing, loading a model, generating or embedding. */
export type Busy = '' | 'load' | 'generate' | 'embed';

/** A model in the Worker, as the view shows it. */
export interface Loaded {
  info: ModelInfo;
  name: string;
  engine: EngineKind;
  fromCache: boolean;
}

export interface Generated {
  gen: Generation;
  ms: number; // wall time of the generate call
}

export interface Embedded {
  lines: string[];
  dim: number;
  matrix: number[][];
  ms: number; // wall time of the embed call
}

/** What the panels' forms and buttons call. */
export interface PanelActions {
  generate(ev: SubmitEvent): void;
  embed(ev: SubmitEvent): void;
  stop(): void;
}

/** What the loaded model is: `#model-info[data-digest][data-task]`. */
export function modelInfoList({ info, name, engine, fromCache }: Loaded) {
  return html`<dl id="model-info" data-digest=${info.digest} data-task=${info.task}>
    <dt>Model</dt><dd>${name}${fromCache ? html` <span class="muted">(from the cache)</span>` : nothing}</dd>
    <dt>Family</dt><dd id="model-family">${info.family}</dd>
    <dt>Architecture</dt><dd>${info.architecture}</dd>
    <dt>Parameters</dt><dd id="model-params">${formatParams(info.params)}</dd>
    <dt>Weights</dt><dd>${formatBytes(info.weightBytes)}</dd>
    <dt>Vocabulary</dt><dd>${info.vocab} tokens, up to ${info.maxPositions} per sequence</dd>
    <dt>Runs on</dt><dd>${engine === 'cpu' ? 'the CPU engine (WebAssembly)' : 'the GPU (WebGPU)'}</dd>
    <dt>Digest</dt><dd><code title=${info.digest}>${info.digest.slice(0, 16)}…</code></dd>
  </dl>`;
}

/** The Generate form and its outcome (`#generated[data-finish]`, `#generate-stats`). */
export function generatePanel(
  info: ModelInfo,
  g: Generated | undefined,
  busy: Busy,
  on: PanelActions,
) {
  const running = busy === 'generate';
  return html`<h4 id="generate-title">Generate</h4>
    <form id="generate-form" aria-labelledby="generate-title" novalidate @submit=${on.generate}>
      <label style="flex-basis: 100%">
        ${info.chatTemplate ? 'Your message' : 'Prompt'}
        <textarea id="prompt" name="prompt" rows="3"
          .value=${info.chatTemplate ? 'Hello! Who are you?' : 'Once upon a time'}></textarea>
      </label>
      ${
        info.chatTemplate
          ? html`<label class="inline">
            <input type="checkbox" id="plain-text" name="plain" /> Send as plain text (no chat template)
          </label>`
          : nothing
      }
      <label>Max new tokens
        <input id="max-new-tokens" name="max" type="number" min="1" max=${MAX_NEW_TOKENS_LIMIT} value=${DEFAULT_NEW_TOKENS} /></label>
      <label>Temperature
        <input id="temperature" name="temperature" type="number" min="0" max="2" step="0.05" value="0.7" /></label>
      <label>Top-p <input id="top-p" name="topP" type="number" min="0.01" max="1" step="0.01" value="0.95" /></label>
      <label>Seed <input id="seed" name="seed" type="number" min="0" max="4294967295" placeholder="random" /></label>
      <button type="submit" id="generate-button" ?disabled=${busy !== ''}>Generate</button>
      ${running ? html`<button type="button" id="stop-button" @click=${on.stop}>Stop</button>` : nothing}
    </form>
    ${
      g
        ? html`<pre id="generated" data-finish=${g.gen.finishReason} aria-live="polite">${g.gen.text}</pre>
          <p id="generate-stats" class="muted">
            ${g.gen.tokens.length} tokens after a prompt of ${g.gen.promptTokens} in
            ${(g.ms / 1000).toFixed(2)} s: ${((g.gen.tokens.length / g.ms) * 1000).toFixed(1)} tokens/s
            (prefill included). Finished: <span id="finish-reason">${finishText(g.gen, info)}</span>.
          </p>`
        : nothing
    }`;
}

/** The Embed form and the similarity table of its outcome (`#embed-result`, `#similarity`). */
export function embedPanel(e: Embedded | undefined, busy: Busy, on: PanelActions) {
  return html`<h4 id="embed-title">Embed</h4>
    <form id="embed-form" aria-labelledby="embed-title" novalidate @submit=${on.embed}>
      <label style="flex-basis: 100%">
        One text a line
        <textarea id="embed-lines" name="lines" rows="4">
The cat sat on the mat.
A cat was sitting on a rug.
Stock markets fell sharply today.</textarea
        >
      </label>
      <button type="submit" id="embed-button" ?disabled=${busy !== ''}>Embed</button>
      ${busy === 'embed' ? html`<button type="button" id="stop-button" @click=${on.stop}>Stop</button>` : nothing}
    </form>
    ${e ? similarityTable(e) : nothing}`;
}

/** The lines' cosine similarities, numbers in coloured cells. */
function similarityTable(e: Embedded) {
  return html`<p id="embed-result" data-dim=${e.dim} class="muted">
      ${e.lines.length} vectors of ${e.dim} numbers in ${(e.ms / 1000).toFixed(2)} s.
    </p>
    <div class="scroll">
      <table id="similarity">
        <caption class="muted">Cosine similarity of each pair of lines (1.00: same direction)</caption>
        <thead>
          <tr><td></td>${e.lines.map((_, j) => html`<th scope="col">${j + 1}</th>`)}</tr>
        </thead>
        <tbody>
          ${e.matrix.map(
            (row, i) => html`<tr>
              <th scope="row" title=${e.lines[i]!}>${i + 1}. ${e.lines[i]}</th>
              ${row.map(
                (c) =>
                  html`<td style=${`background: ${similarityColour(c)}`}>${formatSimilarity(c)}</td>`,
              )}
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
}

/** The Generate form as a request; an InputError for a field out of range. */
export function generateRequest(form: HTMLFormElement, info: ModelInfo): GenerateRequest {
  const prompt = (form.elements.namedItem('prompt') as HTMLTextAreaElement).value;
  if (prompt.trim() === '') throw new InputError('Type a prompt first.');
  const plain =
    !info.chatTemplate || (form.elements.namedItem('plain') as HTMLInputElement).checked;
  const maxNewTokens = requiredInt(form, 'max', 1, MAX_NEW_TOKENS_LIMIT, 'Max new tokens');
  const temperature = Number(fieldValue(form, 'temperature'));
  if (fieldValue(form, 'temperature') === '' || !(temperature >= 0 && temperature <= 2)) {
    throw new InputError('Temperature must be a number from 0 to 2.');
  }
  const topP = Number(fieldValue(form, 'topP'));
  if (fieldValue(form, 'topP') === '' || !(topP > 0 && topP <= 1)) {
    throw new InputError('Top-p must be a number above 0, at most 1.');
  }
  const seed =
    fieldValue(form, 'seed') === ''
      ? crypto.getRandomValues(new Uint32Array(1))[0]!
      : requiredInt(form, 'seed', 0, 2 ** 32 - 1, 'Seed');
  return {
    ...(plain ? { prompts: [prompt] } : { chats: [[{ role: 'user', content: prompt }]] }),
    maxNewTokens,
    temperature,
    topP,
    seed,
  };
}

/** Why a generation ended, as people read it. */
export function finishText(gen: Generation, info: ModelInfo): string {
  if (gen.finishReason === 'stop') return 'stop (an end token or stop string)';
  return gen.promptTokens + gen.tokens.length >= info.maxPositions
    ? `length (the model takes ${info.maxPositions} tokens)`
    : 'length (max new tokens)';
}
