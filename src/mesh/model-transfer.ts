import type { Connection, Stream } from '@libp2p/interface';
import { type LengthPrefixedStream, lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { sha256 } from '../gpu/digest';
import { log } from '../log/log';
import { DEFAULT_MAX_MODEL_BYTES } from '../model/limits';
import { asStreamError, describeStreamError } from '../wire/stream-errors';
import type { CheckpointFileMap } from '../worker/api';
import {
  decodeModelMsg,
  encodeModelMsg,
  MAX_MODEL_FRAME_BYTES,
  type ModelManifestMsg,
  type ModelMsg,
  WireError,
} from './codec';
import { checkpointDigest, decodeFileMap, encodeFileMap } from './file-map';
import type { MeshNode } from './node';
import { MODEL_PROTOCOL } from './topics';

const trace = log('mesh:model-transfer');

export type ModelTransferErrorCode =
  | 'refused' // the owner will not serve it (no lease on a job that uses it, unknown model)
  | 'too-large' // the manifest announces more bytes than this contributor accepts
  | 'manifest' // the manifest is for another model, or changed under a resumed fetch
  | 'malformed' // a frame that failed the codec
  | 'bad-chunk' // a chunk at the wrong offset or of the wrong length (a lying length)
  | 'chunk-mismatch' // a chunk whose bytes do not hash to the manifest's
  | 'digest-mismatch' // the whole is no checkpoint folder, or does not hash to the digest asked for
  | 'unavailable'; // every attempt failed (the owner went away)

/** A model fetch that failed. The bytes concerned were discarded. */
export class ModelTransferError extends Error {
  override readonly name = 'ModelTransferError';
  constructor(
    readonly code: ModelTransferErrorCode,
    message: string,
    readonly peer?: string,
  ) {
    super(message);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// ---- owner ------------------------------------------------------------------------------------

/** What a model server uses of the node (a full MeshNode satisfies it). */
export type ModelServerComponents = Pick<MeshNode, 'handle' | 'unhandle'>;
/** What a model fetcher uses of the node. */
export type ModelFetcherComponents = Pick<MeshNode, 'dialProtocol'>;

/** Faults injected into servers (tests only: set through src/mesh/faults.ts, never by
 * production code). Kept outside the class so the served path reads them and nothing else. */
const injected = new WeakMap<ModelServer, { corruptChunks: number }>();

/** Test fault: the next `n` chunks `server` sends have one byte flipped (corruption in
 * flight, which the fetcher must catch by the chunk's hash). */
export function corruptModelChunks(server: ModelServer, n: number): void {
  injected.set(server, { corruptChunks: Math.max(0, Math.floor(n)) });
}

/** A served model's chunk: small enough that a corrupt one costs little to fetch again, large
 * enough that the manifest's hashes stay a small part of it. */
export const MODEL_CHUNK_BYTES = 256 * 1024; // bytes

export interface ModelServerOptions {
  /** Whether `peer` may fetch `digest` for `jobId`: it holds a lease on a job that runs it. */
  mayFetch: (peer: string, digest: string, jobId: string) => boolean;
  /** Bytes a chunk, each hashed in the manifest (a corrupt one is fetched again alone). */
  chunkBytes?: number; // default MODEL_CHUNK_BYTES
}

/**
 * The owner's side of /tessel/model/1.0.0: serves the models of its jobs, by checkpoint digest,
 * only to peers holding a lease on a job that uses them, in chunks from any offset (a dropped
 * fetch resumes where it stopped). A model travels as its checkpoint folder framed into one
 * byte string (src/mesh/file-map.ts); the manifest's `config` is left empty (config.json is
 * one of the framed files).
 */
export class ModelServer {
  readonly #node: ModelServerComponents;
  readonly #o: ModelServerOptions;
  readonly #models = new Map<string, Promise<{ file: Uint8Array; manifest: ModelManifestMsg }>>();

  constructor(node: ModelServerComponents, options: ModelServerOptions) {
    this.#node = node;
    this.#o = options;
  }

  async start(): Promise<void> {
    await this.#node.handle(MODEL_PROTOCOL, (s, c) => this.#serve(s, c), {
      maxInboundStreams: 8,
    });
  }

  async stop(): Promise<void> {
    await this.#node.unhandle(MODEL_PROTOCOL);
  }

  /** Makes a model available (its digest was checked by whoever loaded it). */
  add(digest: string, files: CheckpointFileMap): void {
    if (this.#models.has(digest)) return;
    const chunkBytes = this.#o.chunkBytes ?? MODEL_CHUNK_BYTES;
    const prepared = (async () => {
      const file = encodeFileMap(files);
      const hashes: Uint8Array[] = [];
      for (let at = 0; at < file.length; at += chunkBytes) {
        hashes.push(await sha256(file.subarray(at, at + chunkBytes)));
      }
      const manifest: ModelManifestMsg = {
        type: 'model-manifest',
        digest,
        config: '',
        fileBytes: file.length,
        chunkBytes,
        chunkHashes: hashes,
      };
      return { file, manifest };
    })();
    // A folder that cannot be framed is refused when a peer asks for it (#serve), not here.
    prepared.catch(() => {});
    this.#models.set(digest, prepared);
  }

  async #serve(stream: Stream, conn: Connection) {
    const peer = conn.remotePeer.toString();
    const lp = lpStream(stream, { maxDataLength: MAX_MODEL_FRAME_BYTES });
    const send = (m: ModelMsg) => lp.write(encodeModelMsg(m));
    try {
      const req = decodeModelMsg(await lp.read({ signal: AbortSignal.timeout(10_000) }));
      if (req.type !== 'model-request') {
        throw new WireError('invalid-field', `expected a model request, got ${req.type}`);
      }
      const model = this.#models.get(req.digest);
      if (!model || !this.#o.mayFetch(peer, req.digest, req.jobId)) {
        trace('refused model %s to %s', req.digest, peer);
        await send({
          type: 'model-refusal',
          code: model ? 'not-leased' : 'unknown-model',
          message: model
            ? 'this owner serves its models only to peers holding a lease on a job that uses them'
            : 'no such model here',
        });
        return await stream.close();
      }
      const { manifest, file } = await model;
      if (req.offset % manifest.chunkBytes !== 0 || req.offset > file.length) {
        await send({ type: 'model-refusal', code: 'bad-offset', message: 'not a chunk boundary' });
        return await stream.close();
      }
      await send(manifest);
      for (let at = req.offset; at < file.length; at += manifest.chunkBytes) {
        let data = file.subarray(at, at + manifest.chunkBytes);
        const faults = injected.get(this);
        if (faults && faults.corruptChunks > 0) {
          faults.corruptChunks--;
          data = data.slice();
          data[data.length >> 1]! ^= 0x40;
        }
        await send({ type: 'model-chunk', offset: at, data });
      }
      await stream.close();
    } catch (e) {
      trace('model stream from %s ended: %s', peer, describeStreamError(e));
      stream.abort(asStreamError(e));
    }
  }
}

// ---- contributor ------------------------------------------------------------------------------

export interface ModelSource {
  owner: string; // peer id
  addr: string; // multiaddr to dial (a WebRTC one between browsers)
  jobId: string; // the job whose lease needs the model
}

export interface ModelFetcherOptions {
  /** Largest model this contributor accepts (its framed folder). */
  maxModelBytes?: number; // bytes, default DEFAULT_MAX_MODEL_BYTES (src/model/limits.ts)
  /** Attempts per fetch; each resumes after the last good chunk. */
  attempts?: number; // default 4
  /** Told each time a peer sent bad bytes or a lying manifest (its reputation drops). */
  onBadPeer?: (peer: string, error: ModelTransferError) => void;
}

/** What is known of a model being fetched: the manifest, and the chunks that checked out. */
interface Partial {
  manifest: ModelManifestMsg;
  file: Uint8Array;
  received: number; // bytes, a prefix of the file
}

/**
 * The contributor's side of /tessel/model/1.0.0: fetches a model by digest from a job's owner,
 * chunk by chunk, checking each chunk against the manifest's hash as it arrives and the whole at
 * the end: it must unframe to a checkpoint folder (src/mesh/file-map.ts) that loads and hashes
 * to the digest; a dropped connection resumes after the last good chunk.
 */
export class ModelFetcher {
  readonly #node: ModelFetcherComponents;
  readonly #o: ModelFetcherOptions;
  readonly #partial = new Map<string, Partial>();
  /** Completed fetches, oldest first (the last 16): what moved, and how fast. */
  readonly fetched: { digest: string; bytes: number; ms: number; attempts: number }[] = [];

  constructor(node: ModelFetcherComponents, options: ModelFetcherOptions = {}) {
    this.#node = node;
    this.#o = options;
  }

  /** Bytes of `digest` received and checked so far (0 when none). */
  received(digest: string): number {
    return this.#partial.get(digest)?.received ?? 0;
  }

  async fetch(digest: string, src: ModelSource, signal: AbortSignal): Promise<CheckpointFileMap> {
    const attempts = this.#o.attempts ?? 4;
    const t0 = performance.now();
    let last: unknown;
    for (let i = 0; i < attempts && !signal.aborted; i++) {
      try {
        const { files, bytes } = await this.#attempt(digest, src, signal);
        const ms = performance.now() - t0;
        this.fetched.push({ digest, bytes, ms, attempts: i + 1 });
        if (this.fetched.length > 16) this.fetched.shift();
        return files;
      } catch (e) {
        last = e;
        if (e instanceof ModelTransferError) {
          if (e.code !== 'unavailable' && e.code !== 'refused') this.#o.onBadPeer?.(src.owner, e);
          // A refusal or a lie about the whole is final; a bad chunk or frame is fetched again.
          if (!RETRYABLE.includes(e.code)) throw e;
        }
        trace(
          'model %s from %s: attempt %d failed: %s',
          digest,
          src.owner,
          i + 1,
          describeStreamError(e),
        );
      }
    }
    if (signal.aborted) throw signal.reason;
    throw new ModelTransferError(
      'unavailable',
      `model ${digest.slice(0, 12)}… not fetched from ${src.owner}: ${(last as Error)?.message ?? last}`,
      src.owner,
    );
  }

  async #attempt(
    digest: string,
    src: ModelSource,
    signal: AbortSignal,
  ): Promise<{ files: CheckpointFileMap; bytes: number }> {
    const stream = await this.#node.dialProtocol(multiaddr(src.addr), MODEL_PROTOCOL, { signal });
    const lp = lpStream(stream, { maxDataLength: MAX_MODEL_FRAME_BYTES });
    try {
      const have = this.#partial.get(digest);
      await lp.write(
        encodeModelMsg({
          type: 'model-request',
          digest,
          jobId: src.jobId,
          offset: have?.received ?? 0,
        }),
      );
      const first = await read(lp, signal);
      if (first === undefined) throw transient('the owner closed the stream');
      if (first.type === 'model-refusal') {
        throw new ModelTransferError('refused', `${first.code}: ${first.message}`, src.owner);
      }
      if (first.type !== 'model-manifest') throw this.#fail('manifest', 'no manifest', digest, src);
      const p = this.#start(digest, first, src);
      while (p.received < p.manifest.fileBytes) {
        const msg = await read(lp, signal);
        if (msg === undefined) throw transient('the stream ended early');
        await this.#chunk(p, msg, digest, src);
      }
      this.#partial.delete(digest);
      // The whole must be the model asked for: the manifest's hashes are only the owner's word.
      return { files: await this.#whole(p.file, digest, src), bytes: p.file.length };
    } finally {
      await stream.close().catch(() => stream.abort(new Error('close failed')));
    }
  }

  /** The fetched bytes as a checkpoint folder that hashes to `digest`, or a typed error. */
  async #whole(file: Uint8Array, digest: string, src: ModelSource): Promise<CheckpointFileMap> {
    let files: CheckpointFileMap;
    let got: string;
    try {
      files = decodeFileMap(file);
      got = await checkpointDigest(files);
    } catch (e) {
      const why = `not a checkpoint folder: ${(e as Error).message}`;
      throw this.#fail('digest-mismatch', why, digest, src);
    }
    if (got !== digest) {
      throw this.#fail('digest-mismatch', 'the model does not hash to its digest', digest, src);
    }
    return files;
  }

  /** Starts or resumes a fetch from a manifest, after checking it. */
  #start(digest: string, m: ModelManifestMsg, src: ModelSource): Partial {
    const max = this.#o.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES;
    if (m.digest !== digest)
      throw this.#fail('manifest', 'a manifest for another model', digest, src);
    if (m.fileBytes > max) {
      throw this.#fail('too-large', `${m.fileBytes} bytes is over this tab's ${max}`, digest, src);
    }
    const p = this.#partial.get(digest);
    if (p) {
      const same =
        p.manifest.fileBytes === m.fileBytes &&
        p.manifest.chunkBytes === m.chunkBytes &&
        p.manifest.config === m.config &&
        p.manifest.chunkHashes.every((h, i) => sameBytes(h, m.chunkHashes[i]!));
      if (!same) throw this.#fail('manifest', 'the manifest changed between attempts', digest, src);
      return p;
    }
    const fresh = { manifest: m, file: new Uint8Array(m.fileBytes), received: 0 };
    this.#partial.set(digest, fresh);
    return fresh;
  }

  async #chunk(p: Partial, msg: ModelMsg, digest: string, src: ModelSource) {
    const { chunkBytes, fileBytes, chunkHashes } = p.manifest;
    const want = Math.min(chunkBytes, fileBytes - p.received);
    if (msg.type !== 'model-chunk' || msg.offset !== p.received || msg.data.length !== want) {
      throw this.#fail(
        'bad-chunk',
        msg.type === 'model-chunk'
          ? `${msg.data.length} bytes at ${msg.offset}, expected ${want} at ${p.received}`
          : `expected a chunk, got ${msg.type}`,
        digest,
        src,
      );
    }
    const i = p.received / chunkBytes;
    if (!sameBytes(await sha256(msg.data), chunkHashes[i]!)) {
      throw this.#fail('chunk-mismatch', `chunk ${i} does not match its hash`, digest, src);
    }
    p.file.set(msg.data, p.received);
    p.received += msg.data.length;
  }

  /** A typed error; a lie about the model (not a bad chunk) also discards what was received. */
  #fail(code: ModelTransferErrorCode, why: string, digest: string, src: ModelSource) {
    if (!RETRYABLE.includes(code)) this.#partial.delete(digest);
    return new ModelTransferError(
      code,
      `model ${digest.slice(0, 12)}… from ${src.owner}: ${why}`,
      src.owner,
    );
  }
}

/** Errors after which the fetch goes on from the last good chunk (the bad bytes are dropped). */
const RETRYABLE: readonly ModelTransferErrorCode[] = ['malformed', 'bad-chunk', 'chunk-mismatch'];

/** A stream that ended early, or broke: the next attempt resumes. */
function transient(why: string): Error {
  return new Error(why);
}

async function read(
  lp: LengthPrefixedStream<Stream>,
  signal: AbortSignal,
): Promise<ModelMsg | undefined> {
  let bytes: Awaited<ReturnType<typeof lp.read>>;
  try {
    bytes = await lp.read({ signal });
  } catch (e) {
    if (signal.aborted) throw e;
    return undefined; // the stream ended or broke
  }
  try {
    return decodeModelMsg(bytes);
  } catch (e) {
    throw new ModelTransferError('malformed', (e as WireError).message);
  }
}
