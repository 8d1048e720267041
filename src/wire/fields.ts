import { WireError } from './wire-error';

// Field checks shared by every decoder of network input (the shard protocol, model transfer,
// announcements, receipts). Each throws a WireError naming the field.

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A job, lease or similar id: 1–64 of [A-Za-z0-9_-]. */
export function id(v: string, field: string): string {
  if (!ID.test(v)) throw new WireError('invalid-field', 'ids are 1-64 of [A-Za-z0-9_-]', field);
  return v;
}

/** A base58 libp2p peer id (its shape; the key inside is checked where it is used). */
export function peerId(v: string, field: string): string {
  if (!/^[1-9A-HJ-NP-Za-km-z]{40,80}$/.test(v)) {
    throw new WireError('invalid-field', 'not a base58 peer id', field);
  }
  return v;
}

/** A hex SHA-256 digest. */
export function digest(v: string, field: string): string {
  if (!/^[0-9a-f]{64}$/.test(v)) {
    throw new WireError('invalid-field', 'a digest is 64 hex digits', field);
  }
  return v;
}

export function text(v: string, max: number, field: string): string {
  if (v.length > max) throw new WireError('invalid-field', `longer than ${max} characters`, field);
  return v;
}

/** Text shown to a person or written to a log (a reason): at most `max` characters, one line,
 * no control or bidirectional-override characters, so a peer cannot forge log lines or make
 * text read other than it is. */
export function line(v: string, max: number, field: string): string {
  text(v, max, field);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/.test(v)) {
    throw new WireError('invalid-field', 'control characters are not allowed', field);
  }
  // A lone surrogate (from bytes that were not UTF-8) would not survive a re-encoding.
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v)) {
    throw new WireError('invalid-field', 'not well-formed Unicode', field);
  }
  return v;
}

export function int(v: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new WireError('invalid-field', `must be an integer in [${min}, ${max}], got ${v}`, field);
  }
  return v;
}

export function finite(v: number, min: number, max: number, field: string): number {
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new WireError('invalid-field', `must be a number in [${min}, ${max}]`, field);
  }
  return v;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
