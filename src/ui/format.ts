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
