/** Text for an error from any layer: `code: message` for typed errors, else the message. */
export function describeError(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : String(e);
    return typeof code === 'string' ? `${code}: ${text}` : text;
  }
  return String(e);
}

/** Reads an integer form field, or explains why it is not one in [min, max]. */
export function readInt(
  form: HTMLFormElement,
  name: string,
  min: number,
  max: number,
): { value: number } | { error: string } {
  const raw = (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
  const value = Number(raw);
  if (raw === '' || !Number.isInteger(value) || value < min || value > max) {
    return { error: `${name.toUpperCase()} must be a whole number from ${min} to ${max}` };
  }
  return { value };
}
