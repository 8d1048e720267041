import type { PrivateKey, PublicKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { sha256 } from '@noble/hashes/sha2.js';
import { LedgerError } from './errors';
import { HASH_BYTES, sameHash } from './merkle';

// Checkpoints in the C2SP formats (c2sp.org/tlog-checkpoint, c2sp.org/signed-note,
// c2sp.org/tlog-cosignature): a three-line body — origin, tree size, base64 root — and signature
// lines "— <key name> base64(key id || signature)". The log signs with Ed25519 (type 0x01) under
// its libp2p key; witnesses add cosignature/v1 lines (type 0x04) that also sign the time. A
// tessel key name carries its peer id (`tessel/log/<id>`, `tessel/witness/<id>`), and an Ed25519
// peer id embeds its public key, so every signature checks without a key directory.

/** Longest note accepted from the network (a checkpoint with a few dozen cosignatures). */
export const MAX_NOTE_BYTES = 8 * 1024;
const MAX_SIGNATURES = 48;

const LOG_PREFIX = 'tessel/log/';
const WITNESS_PREFIX = 'tessel/witness/';
const ED25519 = 0x01;
const COSIGNATURE_V1 = 0x04;
const encoder = new TextEncoder();

export interface Checkpoint {
  /** `tessel/log/<owner peer id>`: the log's identity. */
  origin: string;
  size: number;
  root: Uint8Array;
}

export interface Cosignature {
  /** The witness's peer id. */
  witness: string;
  /** When the witness signed, in seconds since the epoch (cosignature/v1). */
  time: number;
  /** The signature line as it appears in the note. */
  line: string;
}

/** A checkpoint whose log signature checked out, with the cosignatures that also did. */
export interface SignedCheckpoint extends Checkpoint {
  /** The log owner's peer id. */
  log: string;
  /** The signed body (three lines, newline-terminated). */
  body: string;
  /** The log's own signature line. */
  signature: string;
  cosignatures: Cosignature[];
}

export function logOrigin(peer: string): string {
  return `${LOG_PREFIX}${peer}`;
}

export function toBase64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

export function fromBase64(s: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new LedgerError('bad-checkpoint', `${what} is not base64`);
  }
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function keyId(name: string, type: number, pub: Uint8Array): Uint8Array {
  const b = new Uint8Array(name.length * 3 + 2 + pub.byteLength);
  const n = encoder.encodeInto(name, b).written;
  b[n] = 0x0a;
  b[n + 1] = type;
  b.set(pub, n + 2);
  return sha256(b.subarray(0, n + 2 + pub.byteLength)).subarray(0, 4);
}

function publicKeyOf(peer: string): PublicKey {
  let key: PublicKey | undefined;
  try {
    key = peerIdFromString(peer).publicKey;
  } catch (cause) {
    throw new LedgerError('bad-signature', `${peer} is not a peer id`, { cause });
  }
  if (key?.type !== 'Ed25519') {
    throw new LedgerError('bad-signature', `${peer} has no Ed25519 key in its id`);
  }
  return key;
}

export function checkpointBody(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${toBase64(c.root)}\n`;
}

/** Parses a checkpoint body; throws LedgerError 'bad-checkpoint'. */
export function parseCheckpointBody(body: string): Checkpoint & { log: string } {
  const lines = body.split('\n');
  if (lines.length !== 4 || lines[3] !== '') {
    throw new LedgerError('bad-checkpoint', 'a tessel checkpoint is three lines');
  }
  const [origin, size, root] = lines as [string, string, string];
  if (!origin.startsWith(LOG_PREFIX)) {
    throw new LedgerError(
      'bad-checkpoint',
      `origin ${JSON.stringify(origin.slice(0, 80))} is not a tessel log`,
    );
  }
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw new LedgerError('bad-checkpoint', 'tree size is not a decimal number');
  }
  const r = fromBase64(root, 'root hash');
  if (r.byteLength !== HASH_BYTES) throw new LedgerError('bad-checkpoint', 'root hash is 32 bytes');
  return { origin, size: Number(size), root: r, log: origin.slice(LOG_PREFIX.length) };
}

/** Signs a checkpoint of the log of `key`'s peer id; returns the note's text. */
export async function signCheckpoint(
  key: PrivateKey,
  peer: string,
  size: number,
  root: Uint8Array,
): Promise<string> {
  const origin = logOrigin(peer);
  const body = checkpointBody({ origin, size, root });
  const sig = await key.sign(encoder.encode(body));
  const id = keyId(origin, ED25519, key.publicKey.raw);
  return `${body}\n— ${origin} ${toBase64(concat(id, sig))}\n`;
}

function cosignedMessage(body: string, time: number): Uint8Array {
  return encoder.encode(`cosignature/v1\ntime ${time}\n${body}`);
}

/** A witness's cosignature/v1 line over a checkpoint body, at `time` (s since the epoch). */
export async function cosign(
  key: PrivateKey,
  witness: string,
  body: string,
  time: number,
): Promise<string> {
  const name = `${WITNESS_PREFIX}${witness}`;
  const sig = await key.sign(cosignedMessage(body, time));
  const t = new Uint8Array(8);
  new DataView(t.buffer).setBigUint64(0, BigInt(time));
  return `— ${name} ${toBase64(concat(keyId(name, COSIGNATURE_V1, key.publicKey.raw), t, sig))}`;
}

/**
 * Opens a checkpoint note: checks its shape, that the log's own key signed it (and, when given,
 * that the log is `expectLog`'s), and keeps the cosignatures that verify; others are dropped.
 * Throws LedgerError 'bad-checkpoint' or 'bad-signature'.
 */
export async function openCheckpoint(note: string, expectLog?: string): Promise<SignedCheckpoint> {
  if (note.length > MAX_NOTE_BYTES) throw new LedgerError('bad-checkpoint', 'note is too long');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(note)) {
    throw new LedgerError('bad-checkpoint', 'a note has no control characters but newlines');
  }
  const split = note.indexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) {
    throw new LedgerError('bad-checkpoint', 'a note is a body, a blank line and signature lines');
  }
  const body = note.slice(0, split + 1);
  const cp = parseCheckpointBody(body);
  if (expectLog !== undefined && cp.log !== expectLog) {
    throw new LedgerError('bad-signature', `a checkpoint of ${cp.log}, not of ${expectLog}`);
  }
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new LedgerError('bad-checkpoint', 'too many signatures');
  const logKey = publicKeyOf(cp.log);
  const logId = keyId(cp.origin, ED25519, logKey.raw);
  let signature: string | undefined;
  const cosignatures: Cosignature[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    const m = /^— (\S+) (\S+)$/.exec(line);
    if (!m) throw new LedgerError('bad-checkpoint', 'malformed signature line');
    const [, name, b64] = m as unknown as [string, string, string];
    const raw = fromBase64(b64, 'signature');
    if (name === cp.origin) {
      if (raw.byteLength !== 68 || !sameHash(raw.subarray(0, 4), logId)) continue;
      if (await logKey.verify(encoder.encode(body), raw.subarray(4))) signature = line;
    } else if (name.startsWith(WITNESS_PREFIX) && raw.byteLength === 76) {
      const witness = name.slice(WITNESS_PREFIX.length);
      if (seen.has(witness)) continue;
      const c = await checkCosignature(witness, name, body, raw);
      if (c) {
        seen.add(witness);
        cosignatures.push({ witness, time: c, line });
      }
    }
  }
  if (!signature) {
    throw new LedgerError('bad-signature', `checkpoint not signed by the log's key (${cp.log})`);
  }
  return { ...cp, body, signature, cosignatures };
}

async function checkCosignature(
  witness: string,
  name: string,
  body: string,
  raw: Uint8Array,
): Promise<number | undefined> {
  let key: PublicKey;
  try {
    key = publicKeyOf(witness);
  } catch {
    return undefined;
  }
  if (!sameHash(raw.subarray(0, 4), keyId(name, COSIGNATURE_V1, key.raw))) return undefined;
  const time = new DataView(raw.buffer, raw.byteOffset + 4, 8).getBigUint64(0);
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const ok = await key.verify(cosignedMessage(body, Number(time)), raw.subarray(12));
  return ok ? Number(time) : undefined;
}

/** The note of a signed checkpoint with its cosignatures (each witness once). */
export function noteOf(c: SignedCheckpoint, extra: readonly Cosignature[] = []): string {
  const seen = new Set<string>();
  const lines = [c.signature];
  for (const s of [...c.cosignatures, ...extra]) {
    if (seen.has(s.witness) || lines.length >= MAX_SIGNATURES) continue;
    seen.add(s.witness);
    lines.push(s.line);
  }
  return `${c.body}\n${lines.join('\n')}\n`;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
