import type { Stream } from '@libp2p/interface';
import { type LengthPrefixedStream, lpStream } from '@libp2p/utils';
import type { Uint8ArrayList } from 'uint8arraylist';
import { asStreamError } from './stream-errors';
import { WireError } from './wire-error';

/** A protocol's validating codec: decode throws WireError for anything it does not accept. */
export interface FrameCodec<T> {
  encode(msg: T): Uint8Array;
  decode(bytes: Uint8ArrayList | Uint8Array): T;
  /** The largest frame the protocol allows, in bytes. */
  maxFrameBytes: number;
}

/**
 * Length-prefixed, validated frames on a libp2p stream. Reads give only messages that passed
 * the codec; writes are queued so a timer and the main flow never interleave bytes. Reads and
 * writes reject with Errors only: a stream ended by a DOM Event (libp2p rejects with a stream's
 * 'close' event) becomes a StreamError saying what happened.
 */
export class Framed<T> {
  readonly #lp: LengthPrefixedStream<Stream>;
  #writes: Promise<void> = Promise.resolve();
  readonly #max: number;

  /** `maxFrameBytes` (≤ the codec's) bounds what one read may buffer: a length prefix beyond it
   * fails at once, before any of the frame is held. */
  constructor(
    readonly stream: Stream,
    readonly codec: FrameCodec<T>,
    maxFrameBytes = codec.maxFrameBytes,
  ) {
    this.#max = Math.min(maxFrameBytes, codec.maxFrameBytes);
    // lpStream buffers at most 4 MiB by default and resets the stream beyond that; a frame is
    // consumed only once whole, so the buffer must hold the largest frame allowed.
    this.#lp = lpStream(stream, {
      maxDataLength: this.#max,
      maxBufferSize: this.#max + 16,
    });
  }

  /** The next message. Throws WireError for a bad frame, other errors for a broken stream. */
  async read(signal?: AbortSignal): Promise<T> {
    let bytes: Uint8ArrayList;
    try {
      bytes = await this.#lp.read({ signal });
    } catch (e) {
      const name = (e as Error)?.name;
      if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') {
        throw new WireError('too-large', `frame over ${this.#max} bytes`, undefined, {
          cause: e,
        });
      }
      throw asStreamError(e);
    }
    return this.codec.decode(bytes);
  }

  /** Sends one message after any earlier ones. */
  write(msg: T, signal?: AbortSignal): Promise<void> {
    const bytes = this.codec.encode(msg);
    // #writes only ever resolves: an earlier failed write does not fail this one by itself.
    const next = this.#writes.then(() =>
      this.#lp.write(bytes, { signal }).catch((e: unknown) => {
        throw asStreamError(e);
      }),
    );
    this.#writes = next.catch(() => {});
    return next;
  }

  /** Aborts the stream (both directions) after a protocol violation. */
  abort(err: Error): void {
    this.stream.abort(err);
  }

  /** Closes our end after the queued writes; never rejects. A peer that went away without a
   * word fails the close (WebRTC waits for its FIN_ACK, then times out): the stream is aborted,
   * which is all there is left to do. */
  async close(): Promise<void> {
    await this.#writes;
    await this.stream.close().catch((e: unknown) => this.stream.abort(asStreamError(e)));
  }
}
