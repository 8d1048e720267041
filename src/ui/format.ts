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

/** Bytes in binary units: "512 B", "3.2 MiB", "1.5 GiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** A duration for people: "45 s", "3 min 20 s", "2 h 5 min". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * Time left for a job from its pace so far: shards verified since `since` (ms since the epoch)
 * at `verifiedSince`, projected over what remains. Undefined until a shard is verified.
 */
export function estimateRemaining(
  remaining: number,
  verifiedSince: number,
  since: number,
  now: number,
): number | undefined {
  if (remaining <= 0) return 0;
  if (verifiedSince <= 0 || now <= since) return undefined;
  return (remaining * (now - since)) / verifiedSince;
}

/** A peer id as people compare them: first 8 and last 6 characters. */
export function short(id: string): string {
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id;
}

/** How long a job may lease nothing before its time left reads "waiting" (a gap between two
 * leases is no wait). */
export const WAITING_AFTER_MS = 3_000; // ms

/**
 * A job's pace: shards verified at `since` (ms since the epoch), and since when nothing has
 * been out or awaiting verification (`idleSince`), so a wait does not count as working time.
 */
export interface Pace {
  since: number;
  verified: number;
  idleSince?: number;
}

/** What a job's time-left line says. */
export type Eta = { kind: 'left'; ms: number } | { kind: 'waiting' } | { kind: 'unknown' };

/**
 * The pace moved on to `now`: a job with nothing leased and nothing awaiting verification is
 * idle; when work resumes the idle stretch is taken out of the measured time, so the estimate
 * is the pace of the work, not of the waits.
 */
export function nextPace(
  pace: Pace | undefined,
  p: { shards: number; leased: number; awaiting: number; verified: number },
  now: number,
): Pace {
  if (!pace) return { since: now, verified: p.verified };
  const idle = p.leased === 0 && p.awaiting === 0 && p.verified < p.shards;
  if (idle) return pace.idleSince === undefined ? { ...pace, idleSince: now } : pace;
  if (pace.idleSince === undefined) return pace;
  return { since: pace.since + (now - pace.idleSince), verified: pace.verified };
}

/**
 * Time left for a running job: "waiting" while it cannot progress (`stalled`) or has leased
 * nothing for WAITING_AFTER_MS, else its pace projected over the shards that remain (unknown
 * until one is verified). An idle stretch shorter than that freezes the estimate instead of
 * letting it grow.
 */
export function jobEta(
  p: { shards: number; verified: number },
  pace: Pace,
  now: number,
  stalled: boolean,
): Eta {
  const remaining = p.shards - p.verified;
  if (remaining <= 0) return { kind: 'left', ms: 0 };
  const idleFor = pace.idleSince === undefined ? 0 : now - pace.idleSince;
  if (stalled || idleFor >= WAITING_AFTER_MS) return { kind: 'waiting' };
  const ms = estimateRemaining(remaining, p.verified - pace.verified, pace.since, now - idleFor);
  return ms === undefined ? { kind: 'unknown' } : { kind: 'left', ms };
}

/** One generated sequence, as the JSONL download writes it. */
export interface GeneratedText {
  /** Its index among the job's sequences. */
  sequence: number;
  prompt: string;
  continuation: string;
}

/** Generated texts as JSON Lines: one object per sequence, `\n` after each (jsonlines.org). */
export function textsJsonl(texts: readonly GeneratedText[]): string {
  return texts
    .map((t) =>
      JSON.stringify({ sequence: t.sequence, prompt: t.prompt, continuation: t.continuation }),
    )
    .join('\n')
    .concat(texts.length ? '\n' : '');
}

/**
 * What was verified of a flat answer, unverified elements set to 0: `rowLength` consecutive
 * values per mask entry (1 for C and its m×n mask; vocab for logits and a per-sequence mask).
 * Throws RangeError when the mask does not cover the values.
 */
export function verifiedPart(values: Float32Array, mask: Uint8Array, rowLength = 1): Float32Array {
  if (mask.length * rowLength !== values.length) {
    throw new RangeError(
      `a mask of ${mask.length}×${rowLength} does not cover ${values.length} values`,
    );
  }
  const out = new Float32Array(values.length);
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 1) out.set(values.subarray(i * rowLength, (i + 1) * rowLength), i * rowLength);
  }
  return out;
}

/**
 * What a job's spending bought, in words: verified shards (and GFLOP, where known) for the
 * credits its receipts paid. `spent` in µcredits; `gflop` of verified work.
 */
export function boughtText(o: {
  spent: number;
  verified: number;
  shards: number;
  gflop?: number;
}): string {
  const paid = `${(o.spent / 1e6).toFixed(3)} credits`;
  const work = `${o.verified} of ${o.shards} shards verified${
    o.gflop === undefined ? '' : ` (${o.gflop.toFixed(o.gflop < 10 ? 3 : 1)} GFLOP)`
  }`;
  if (o.spent <= 0) return `Nothing paid yet; ${work}.`;
  const rate =
    o.gflop && o.gflop > 0 ? `, ${(o.spent / 1e6 / o.gflop).toFixed(3)} credits per GFLOP` : '';
  return `${paid} bought ${work}${rate}.`;
}
