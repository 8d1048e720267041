import type { LeaseMsg, NoWorkMsg, ShardMsg, VerdictMsg } from './codec';
import type { FramedStream } from './framed';

/**
 * The owner's frames on one shard stream, read as they come: verdicts go to `onVerdict` at
 * once; leases and no-works go to the `next()` calls in order (one per work request).
 */
export class Replies {
  readonly #waiting: {
    resolve: (m: LeaseMsg | NoWorkMsg) => void;
    reject: (e: unknown) => void;
  }[] = [];
  #error: unknown;
  /** Settles when the stream has ended or broken. */
  readonly ended: Promise<void>;

  constructor(
    framed: FramedStream,
    signal: AbortSignal,
    onVerdict: (v: VerdictMsg) => Promise<void>,
  ) {
    this.ended = (async () => {
      try {
        for (;;) {
          const msg = await framed.read(signal);
          if (msg.type === 'verdict') await onVerdict(msg);
          else if (msg.type === 'lease' || msg.type === 'no-work') {
            const taker = this.#waiting.shift();
            if (!taker) throw new Error(`owner sent a '${msg.type}' nobody asked for`);
            taker.resolve(msg);
          } else throw unexpected(msg);
        }
      } catch (e) {
        this.#error = e;
        for (const w of this.#waiting.splice(0)) w.reject(e);
      }
    })();
  }

  /** The reply to the next work request. */
  next(): Promise<LeaseMsg | NoWorkMsg> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function unexpected(msg: ShardMsg): Error {
  return new Error(`owner sent an unexpected '${msg.type}' frame`);
}

/** Waits `ms`, or rejects when `signal` aborts; leaves no listener behind on the signal (the
 * work loop's lives as long as the job, and sleeps after every shard). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
