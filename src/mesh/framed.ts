import type { Stream } from '@libp2p/interface';
import { type FrameCodec, Framed } from '../wire/framed';
import { decodeShardMsg, encodeShardMsg, MAX_FRAME_BYTES, type ShardMsg } from './codec';

/** The shard protocol's frames: every one through src/mesh/codec.ts. */
export const SHARD_CODEC: FrameCodec<ShardMsg> = {
  encode: encodeShardMsg,
  decode: decodeShardMsg,
  maxFrameBytes: MAX_FRAME_BYTES,
};

/** Length-prefixed, validated shard-protocol frames on a libp2p stream (see Framed). */
export class FramedStream extends Framed<ShardMsg> {
  /** `maxFrameBytes` (≤ MAX_FRAME_BYTES) bounds what one read may buffer. */
  constructor(
    stream: Stream,
    { maxFrameBytes = MAX_FRAME_BYTES }: { maxFrameBytes?: number } = {},
  ) {
    super(stream, SHARD_CODEC, maxFrameBytes);
  }
}
