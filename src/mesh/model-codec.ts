import type { Uint8ArrayList } from 'uint8arraylist';
import { digest, errorText, id, int, text } from '../wire/fields';
import { WireError } from '../wire/wire-error';
import { ModelFrame, type ModelManifest } from './pb/wire';
import { one, version, WIRE_VERSION } from './wire-version';

/**
 * The model protocol's frames (/tessel/model/1.0.0), validated: every field, length and shape
 * is checked here; src/mesh/codec.ts re-exports it with the other protocols' codecs.
 */

/** Models: at most 1 GiB, in chunks of 4 KiB to 1 MiB, so at most 262,144 chunk hashes. */
export const MAX_MODEL_BYTES = 2 ** 30;
export const MIN_CHUNK_BYTES = 4096;
export const MAX_CHUNK_BYTES = 2 ** 20;
/** Largest frame on the model protocol: a chunk, or a manifest with all its hashes. */
export const MAX_MODEL_FRAME_BYTES = 9 * 2 ** 20;
/** Largest model config (JSON). */
export const MAX_CONFIG_CHARS = 65_536;

export interface ModelRequestMsg {
  type: 'model-request';
  digest: string;
  jobId: string;
  offset: number;
}
export interface ModelManifestMsg {
  type: 'model-manifest';
  digest: string;
  config: string;
  fileBytes: number;
  chunkBytes: number;
  chunkHashes: Uint8Array[];
}
export interface ModelChunkMsg {
  type: 'model-chunk';
  offset: number;
  data: Uint8Array;
}
export interface ModelRefusalMsg {
  type: 'model-refusal';
  code: string;
  message: string;
}
export type ModelMsg = ModelRequestMsg | ModelManifestMsg | ModelChunkMsg | ModelRefusalMsg;

export function encodeModelMsg(msg: ModelMsg): Uint8Array {
  const f: ModelFrame = { version: WIRE_VERSION };
  if (msg.type === 'model-request') f.request = msg;
  else if (msg.type === 'model-manifest') f.manifest = msg;
  else if (msg.type === 'model-chunk') f.chunk = msg;
  else f.refusal = msg;
  const bytes = ModelFrame.encode(f);
  decodeModelMsg(bytes);
  return bytes;
}

/** Decodes and validates one model-protocol frame. Throws WireError, never anything else. */
export function decodeModelMsg(data: Uint8Array | Uint8ArrayList): ModelMsg {
  if (data.byteLength > MAX_MODEL_FRAME_BYTES) {
    throw new WireError('too-large', `model frame of ${data.byteLength} bytes`);
  }
  let f: ModelFrame;
  try {
    f = ModelFrame.decode(data, {
      limits: { manifest: { chunkHashes: MAX_MODEL_BYTES / MIN_CHUNK_BYTES } },
    });
  } catch (cause) {
    throw new WireError('malformed', `not a ModelFrame: ${errorText(cause)}`, undefined, { cause });
  }
  version(f.version);
  one([f.request, f.manifest, f.chunk, f.refusal]);
  if (f.request) {
    return {
      type: 'model-request',
      digest: digest(f.request.digest, 'request.digest'),
      jobId: id(f.request.jobId, 'request.jobId'),
      offset: int(f.request.offset, 0, MAX_MODEL_BYTES, 'request.offset'),
    };
  }
  if (f.manifest) return manifest(f.manifest);
  if (f.chunk) {
    if (f.chunk.data.byteLength < 1 || f.chunk.data.byteLength > MAX_CHUNK_BYTES) {
      throw new WireError('invalid-field', 'a chunk holds 1 B to 1 MiB', 'chunk.data');
    }
    return {
      type: 'model-chunk',
      offset: int(f.chunk.offset, 0, MAX_MODEL_BYTES, 'chunk.offset'),
      data: f.chunk.data,
    };
  }
  return {
    type: 'model-refusal',
    code: text(f.refusal!.code, 64, 'refusal.code'),
    message: text(f.refusal!.message, 500, 'refusal.message'),
  };
}

function manifest(m: ModelManifest): ModelManifestMsg {
  const fileBytes = int(m.fileBytes, 1, MAX_MODEL_BYTES, 'manifest.fileBytes');
  const chunkBytes = int(m.chunkBytes, MIN_CHUNK_BYTES, MAX_CHUNK_BYTES, 'manifest.chunkBytes');
  if (m.chunkHashes.length !== Math.ceil(fileBytes / chunkBytes)) {
    throw new WireError(
      'invalid-field',
      `${m.chunkHashes.length} chunk hashes for ${fileBytes} bytes in ${chunkBytes}-byte chunks`,
      'manifest.chunkHashes',
    );
  }
  m.chunkHashes.forEach((h, i) => {
    if (h.byteLength !== 32) {
      throw new WireError('invalid-field', 'a SHA-256 is 32 bytes', `manifest.chunkHashes[${i}]`);
    }
  });
  return {
    type: 'model-manifest',
    digest: digest(m.digest, 'manifest.digest'),
    config: text(m.config, MAX_CONFIG_CHARS, 'manifest.config'),
    fileBytes,
    chunkBytes,
    chunkHashes: m.chunkHashes,
  };
}
