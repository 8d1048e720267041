import { html } from 'lit';

/** A form value the researcher must fix; shown as it is. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** A form's outcome, shown under it: `ok` for progress, `error` for a refusal. */
export interface FormMessage {
  text: string;
  kind: 'ok' | 'error';
}

/** The outcome line under a form (`#job-result`, `#infer-result`), empty until there is one. */
export function formMessage(id: string, m: FormMessage | undefined) {
  // role=alert for refusals so a screen reader says them at once; status for progress.
  return html`<p id=${id} class=${m?.kind ?? ''} role=${m?.kind === 'error' ? 'alert' : 'status'} aria-live="polite">
    ${m?.text ?? ''}
  </p>`;
}

/** A field's value as typed, trimmed; '' when the form has no such field. */
export function fieldValue(form: HTMLFormElement, name: string): string {
  return (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
}

/** A whole number from `min` to `max`; an InputError naming `label` otherwise. */
export function requiredInt(
  form: HTMLFormElement,
  name: string,
  min: number,
  max: number,
  label = name.toUpperCase(),
): number {
  const raw = fieldValue(form, name);
  const v = Number(raw);
  if (raw === '' || !Number.isInteger(v) || v < min || v > max) {
    throw new InputError(`${label} must be a whole number from ${min} to ${max}.`);
  }
  return v;
}

/** The shard block: empty means undefined (sized by the owner), else as `requiredInt`. */
export function optionalInt(
  form: HTMLFormElement,
  name: string,
  min: number,
  max: number,
): number | undefined {
  return fieldValue(form, name) === ''
    ? undefined
    : requiredInt(form, name, min, max, 'Shard block');
}

/** A percentage field from 0 to 100, as a fraction (0 to 1). */
export function percent(form: HTMLFormElement, name: string, label: string): number {
  const raw = fieldValue(form, name);
  const v = Number(raw);
  if (raw === '' || !(v >= 0 && v <= 100)) throw new InputError(`${label} must be 0 to 100 %.`);
  return v / 100;
}
