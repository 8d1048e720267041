import { logger } from '@libp2p/logger';
import { type GptConfig, parseGptConfig } from '../model/gpt';
import { canonicalConfig, modelDigest } from '../model/load';
import type { ModelCache } from './model-store';
import {
  type ModelBundle,
  type ModelFetcher,
  type ModelServer,
  type ModelSource,
  ModelTransferError,
} from './model-transfer';

const log = logger('tessel:models');

/** Where models run: the tab's compute Worker. */
export interface ModelHost {
  /** Validates and keeps a model; resolves with its digest. The file may be transferred. */
  loadModel(file: Uint8Array, config: unknown): Promise<string>;
  hasModel(digest: string): Promise<boolean>;
}

/**
 * The tab's models, by content digest: what its Worker holds, what IndexedDB keeps, what it
 * serves to contributors of its own jobs, and how it gets one it lacks (from the cache, else
 * from the job's owner). Nothing runs a model whose bytes do not hash to the digest asked for.
 */
export class ModelLibrary {
  readonly #held = new Map<string, { bytes: number; config: GptConfig }>();
  readonly #ensuring = new Map<string, Promise<void>>();

  constructor(
    readonly host: ModelHost,
    readonly cache: ModelCache,
    readonly server: ModelServer,
    readonly fetcher: ModelFetcher,
  ) {}

  /** Bytes of a model this tab holds, or 0. */
  size(digest: string): number {
    return this.#held.get(digest)?.bytes ?? 0;
  }

  /** The config of a model this tab holds. */
  config(digest: string): GptConfig | undefined {
    return this.#held.get(digest)?.config;
  }

  /**
   * A researcher's model (safetensors bytes and its config): validated by the Worker, kept in
   * IndexedDB, and served to contributors leased work on it. Resolves with its digest.
   */
  async add(file: Uint8Array, config: unknown): Promise<string> {
    const bundle = { config: canonicalConfig(config), file: file.slice() };
    const digest = await modelDigest(bundle.config, bundle.file);
    await this.#load(digest, bundle);
    await this.cache.put(digest, bundle);
    return digest;
  }

  /** Serves a model this tab already keeps (a job resumed after a reload); false if it has none. */
  async resume(digest: string): Promise<boolean> {
    const cached = await this.#cached(digest);
    if (!cached) return false;
    await this.#load(digest, cached);
    return true;
  }

  /** Makes sure the Worker holds `digest`: loaded already, in the cache, or fetched from `src`. */
  ensure(digest: string, src: ModelSource, signal: AbortSignal): Promise<void> {
    let p = this.#ensuring.get(digest);
    if (!p) {
      p = this.#ensure(digest, src, signal).finally(() => this.#ensuring.delete(digest));
      this.#ensuring.set(digest, p);
    }
    return p;
  }

  async #ensure(digest: string, src: ModelSource, signal: AbortSignal) {
    if (await this.host.hasModel(digest)) return;
    let bundle = await this.#cached(digest);
    if (!bundle) {
      log('fetching model %s from %s', digest, src.owner);
      bundle = await this.fetcher.fetch(digest, src, signal);
      await this.cache.put(digest, bundle);
    }
    await this.#load(digest, bundle);
  }

  /** A cached model whose bytes still hash to its digest (a damaged record is ignored). */
  async #cached(digest: string): Promise<ModelBundle | undefined> {
    const m = await this.cache.get(digest).catch(() => undefined);
    if (m && (await modelDigest(m.config, m.file)) === digest) return m;
    if (m) console.warn(`tessel: cached model ${digest} is damaged; fetching it again`);
    return undefined;
  }

  async #load(digest: string, m: ModelBundle) {
    // The Worker may take the bytes it is given; the library keeps its own.
    const loaded = await this.host.loadModel(m.file.slice(), JSON.parse(m.config));
    if (loaded !== digest) {
      throw new ModelTransferError('digest-mismatch', `model ${digest} loaded as ${loaded}`);
    }
    this.#held.set(digest, { bytes: m.file.length, config: parseGptConfig(JSON.parse(m.config)) });
    this.server.add(digest, m);
  }
}
