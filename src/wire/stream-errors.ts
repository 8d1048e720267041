// Why a stream broke, in words. libp2p rejects reads and writes with whatever ended the stream:
// an Error, a DOMException (TimeoutError from an AbortSignal), an AggregateError (WebRTC's close
// races three promises), or a DOM Event itself (p-event rejects with the 'close' event of a
// stream, or a data channel's 'error' event). String(event) is "[object Event]", which says
// nothing; these say what happened.

/** Longest description returned (characters): one log line. */
export const MAX_STREAM_ERROR_CHARS = 300;

/** What an event of each type means on a stream, when it carries no error of its own. */
const EVENT_WORDS: Record<string, string> = {
  close: 'the stream closed',
  abort: 'the stream was aborted',
  reset: 'the stream was reset by the remote peer',
  error: 'the data channel failed',
};

/**
 * A readable, one-line reason for anything a stream read, write or close rejected with, e.g.
 * "TimeoutError: signal timed out", "the stream closed", "StreamResetError: The stream was
 * reset". Never "[object Event]"; never throws; at most MAX_STREAM_ERROR_CHARS characters.
 */
export function describeStreamError(e: unknown): string {
  return clip(reasonOf(e, 0));
}

/** `e` itself when it is an Error, else an Error whose message is describeStreamError(e) (the
 * original kept as its `cause`): callers that log `error.message` get a readable reason. */
export function asStreamError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new StreamError(describeStreamError(e), { cause: e });
}

/** A stream ended by something that was not an Error (an Event, a string, nothing). */
export class StreamError extends Error {
  override readonly name = 'StreamError';
}

function reasonOf(e: unknown, depth: number): string {
  if (depth > 3) return '…';
  if (e === undefined || e === null) return 'no reason given';
  if (typeof e === 'string') return e || 'no reason given';
  if (e instanceof AggregateError) {
    // WebRTC's close waits on FIN_ACK, 'close' and 'error' at once: usually one timeout thrice.
    const parts = [...new Set(e.errors.map((x) => reasonOf(x, depth + 1)))];
    return parts.length > 0 ? parts.join('; ') : named(e);
  }
  if (e instanceof Error) return named(e);
  if (isEvent(e)) {
    const inner = (e as { error?: unknown }).error;
    if (inner !== undefined && inner !== null) {
      return `${reasonOf(inner, depth + 1)} (a '${e.type}' event)`;
    }
    return EVENT_WORDS[e.type] ?? `a '${e.type}' event`;
  }
  if (typeof e === 'object') {
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && message) return message;
    try {
      return JSON.stringify(e) ?? Object.prototype.toString.call(e);
    } catch {
      return Object.prototype.toString.call(e);
    }
  }
  return String(e);
}

/** "Name: message" for a named error ("TimeoutError: signal timed out"), else the message. */
function named(e: Error): string {
  const message = e.message || 'no message';
  return e.name && e.name !== 'Error' ? `${e.name}: ${message}` : message;
}

/** An Event without relying on the global (Node has one, but duck typing keeps this total). */
function isEvent(e: unknown): e is { type: string } {
  if (typeof Event !== 'undefined' && e instanceof Event) return true;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { type?: unknown }).type === 'string' &&
    typeof (e as { preventDefault?: unknown }).preventDefault === 'function'
  );
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > MAX_STREAM_ERROR_CHARS ? `${one.slice(0, MAX_STREAM_ERROR_CHARS - 1)}…` : one;
}
