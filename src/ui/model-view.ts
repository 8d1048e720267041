import { cryptoRng } from '../model/rng';
import { sampleToken } from '../model/sample';
import type { ComputeClient } from '../worker/client';
import { describeError } from './format';
import { encodeText, type ShippedModel } from './shipped-model';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;

/** The "Try the model" section: loads the shipped model into the Worker on first use. */
export function startModelView(compute: ComputeClient, shipped: () => Promise<ShippedModel>) {
  const form = $<HTMLFormElement>('#model-form');
  const out = $<HTMLParagraphElement>('#generated');
  const button = $<HTMLButtonElement>('#generate-button');
  let loaded: Promise<{ digest: string; vocab: string[]; maxSeq: number }> | undefined;

  const load = async () => {
    const { file, config, vocab, maxSeq } = await shipped();
    // The Worker takes the bytes it is sent; the shared copy stays whole.
    const digest = await compute.loadModel(file.slice(), config);
    return { digest, vocab, maxSeq };
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const prompt = (form.elements.namedItem('prompt') as HTMLInputElement).value;
    const temperature = Number((form.elements.namedItem('temperature') as HTMLInputElement).value);
    if (!(temperature >= 0 && temperature <= 2)) {
      out.textContent = 'Temperature must be a number from 0 to 2.';
      out.className = 'error';
      return;
    }
    button.disabled = true;
    out.className = '';
    try {
      loaded ??= load();
      const { digest, vocab, maxSeq } = await loaded;
      const encoded = encodeText(vocab, prompt);
      if (prompt.length === 0 || 'unknown' in encoded) {
        out.textContent =
          'unknown' in encoded
            ? `The model has never seen ${encoded.unknown.map((c) => JSON.stringify(c)).join(', ')}: use plain letters and punctuation.`
            : 'Type a prompt first.';
        out.className = 'error';
        return;
      }
      const ids = Array.from(encoded);
      const rng = cryptoRng();
      const t0 = performance.now();
      let text = '';
      for (let i = 0; i < 120; i++) {
        const ctx = Uint32Array.from(ids.slice(-maxSeq));
        const logits = await compute.infer(digest, ctx, 1, ctx.length);
        const next = sampleToken(logits, temperature, rng);
        ids.push(next);
        text += vocab[next];
        out.textContent = prompt + text;
      }
      out.textContent = `${prompt}${text} (${((120 / (performance.now() - t0)) * 1000).toFixed(0)} characters/s)`;
    } catch (e) {
      loaded = undefined;
      out.textContent = describeError(e);
      out.className = 'error';
    } finally {
      button.disabled = false;
    }
  });
}
