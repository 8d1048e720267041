/**
 * A Blob read as UTF-8 text in chunks, never whole. Decoding is strict (fatal): bytes that are
 * not UTF-8 stop the read with the text that was valid before them, so the caller can say on
 * which row the bad bytes sit.
 */

/** Thrown by `decodeChunks` after it has yielded the valid text that came before the bad bytes. */
export class InvalidUtf8 extends Error {
  override readonly name = 'InvalidUtf8';
  /** The 1-based line the bad bytes sit on, set by `splitLines`. */
  line: number | undefined;
  constructor(readonly atEnd: boolean) {
    super(atEnd ? 'the file ends inside a UTF-8 character' : 'bytes that are not UTF-8');
  }
}

/** Thrown when the caller's signal fires between chunks. */
export class ReadAborted extends Error {
  override readonly name = 'ReadAborted';
}

/**
 * The Blob's text, chunk by chunk as `stream()` delivers it. A leading byte-order mark is dropped
 * (TextDecoder's default). On bytes that are not UTF-8 it yields the valid text before them, then
 * throws InvalidUtf8.
 */
export async function* decodeChunks(blob: Blob, signal?: AbortSignal): AsyncGenerator<string> {
  const reader = blob.stream().getReader();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for (;;) {
      if (signal?.aborted) throw new ReadAborted('the read was aborted');
      const { done, value } = await reader.read();
      if (done) break;
      let text: string;
      try {
        text = decoder.decode(value, { stream: true });
      } catch {
        // The decoder's state is lost: find the longest valid prefix of this chunk again, from
        // the state the chunk started in (a character split over the last boundary is lost).
        yield validPrefix(value);
        throw new InvalidUtf8(false);
      }
      if (text) yield text;
    }
    let tail: string;
    try {
      tail = decoder.decode();
    } catch {
      throw new InvalidUtf8(true);
    }
    if (tail) yield tail;
  } finally {
    reader.cancel().catch(() => {}); // the stream may already be closed: nothing to release then
    reader.releaseLock();
  }
}

/** The text of the longest prefix of `bytes` that holds no invalid UTF-8 (binary search). */
function validPrefix(bytes: Uint8Array): string {
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (decodes(bytes.subarray(0, mid))) lo = mid;
    else hi = mid - 1;
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, lo), { stream: true });
}

function decodes(bytes: Uint8Array): boolean {
  try {
    // stream: a character cut by the prefix's end is not an error, only wrong bytes are.
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** One line of text: its 1-based number, its text (cut at the limit), and whether it was cut. */
export interface Line {
  line: number;
  text: string;
  cut: boolean;
}

/**
 * Splits streamed text into lines on `\n`, dropping a `\r` before it; the empty string after a
 * final newline is not a line. A line longer than `maxChars` keeps its first `maxChars` characters
 * and is flagged `cut` (the rest is read and dropped, never held), or, with `refuse`, `onTooLong`
 * is called with its number and must throw.
 */
export async function* splitLines(
  chunks: AsyncIterable<string>,
  maxChars: number,
  onTooLong: ((line: number) => never) | undefined,
): AsyncGenerator<Line> {
  let line = 1;
  let carry = '';
  let cut = false;
  const add = (piece: string) => {
    if (cut) return;
    carry += piece;
    if (carry.length > maxChars) {
      // A \r just past the limit may be half of the \r\n ending: not a reason to cut.
      if (carry.length === maxChars + 1 && carry.endsWith('\r')) return;
      if (onTooLong) onTooLong(line);
      carry = keepChars(carry, maxChars);
      cut = true;
    }
  };
  try {
    for await (const chunk of chunks) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf('\n', start);
        if (nl < 0) {
          add(chunk.slice(start));
          break;
        }
        add(chunk.slice(start, nl));
        let text = carry;
        if (!cut && text.endsWith('\r')) text = text.slice(0, -1);
        yield { line, text, cut };
        line++;
        carry = '';
        cut = false;
        start = nl + 1;
      }
    }
  } catch (e) {
    if (e instanceof InvalidUtf8) e.line = line;
    throw e;
  }
  if (carry || cut) yield { line, text: carry, cut };
}

/** The first `max` UTF-16 code units of `text`, never splitting a surrogate pair. */
export function keepChars(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
