import { JobSpecError } from '../jobs/job';
import { log, notice } from '../log/log';
import { parseConfig, parseJsonObject } from '../model/hf/config';
import { type ModelSummary, modelSummary } from '../model/hf/cost';
import type { CheckpointFileMap, ComputeApi } from '../worker/api';
import { checkpointFiles } from './file-map';
import type { ModelCache } from './model-store';
import {
  type ModelFetcher,
  type ModelServer,
  type ModelSource,
  ModelTransferError,
} from './model-transfer';

const trace = log('mesh:models');

/** Where models run: the tab's compute Worker. loadModel checks the whole checkpoint (typed
 * CheckpointError / TokenizerError) and reports its digest; it may take the files' buffers. */
export type ModelHost = Pick<ComputeApi, 'loadModel' | 'hasModel'>;

/** What the library knows of a model it holds. */
interface Held {
  bytes: number;
  summary: ModelSummary;
}

/**
 * The tab's models, by checkpoint digest: what its Worker holds, what the model cache keeps,
 * what it serves to contributors of its own jobs, and how it gets one it lacks (from the cache,
 * else from the job's owner). Nothing runs a model whose files do not hash to the digest asked
 * for: the Worker's loadModel computes the digest from the files it is given.
 */
export class ModelLibrary {
  readonly #held = new Map<string, Held>();
  readonly #ensuring = new Map<string, Promise<void>>();

  constructor(
    readonly host: ModelHost,
    readonly cache: ModelCache,
    readonly server: ModelServer,
    readonly fetcher: ModelFetcher,
  ) {}

  /** Bytes of a model this tab holds (all its files), or 0. */
  size(digest: string): number {
    return this.#held.get(digest)?.bytes ?? 0;
  }

  /** The summary (family, vocabulary, context, cost shape) of a model this tab holds. */
  summary(digest: string): ModelSummary | undefined {
    return this.#held.get(digest)?.summary;
  }

  /**
   * A researcher's model (a checkpoint folder's files; those of no use to the loader, such as
   * copies in other formats, are left out: see checkpointFiles): checked and digested by the
   * Worker, kept in the cache under `name`, and served to contributors leased work on it.
   * Resolves with its digest.
   */
  async add(files: CheckpointFileMap, name = 'model'): Promise<string> {
    const own = copy(checkpointFiles(files));
    const digest = await this.#load(own);
    await this.cache.put(digest, own, name).catch((e) => {
      notice(`model ${digest} not cached: ${e}`);
    });
    return digest;
  }

  /** The model a job request names (files to add, or the digest of one held), held by this
   * tab: its digest and summary. Throws JobSpecError when a named digest is not held. */
  async hold(
    model: { files: CheckpointFileMap; name?: string } | { digest: string },
  ): Promise<{ modelDigest: string; model: ModelSummary }> {
    const digest = 'digest' in model ? model.digest : await this.add(model.files, model.name);
    const summary = this.summary(digest);
    if (!summary) throw new JobSpecError('model', `no model ${digest} is held by this tab`);
    return { modelDigest: digest, model: summary };
  }

  /** Serves a model this tab already keeps (a job resumed after a reload); false if it has none. */
  resume(digest: string): Promise<boolean> {
    return this.#cached(digest);
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
    // A model the Worker holds already (loaded by this tab for itself) is not fetched again.
    if (await this.host.hasModel(digest)) return;
    if (await this.#cached(digest)) return;
    trace('fetching model %s from %s', digest, src.owner);
    const files = await this.fetcher.fetch(digest, src, signal);
    await this.#load(files, digest);
    await this.cache.put(digest, files, `${digest.slice(0, 12)}… (a job's model)`).catch(() => {});
  }

  /** Loads a cached model; a damaged record (it fails to load or hashes to another digest) is
   * dropped, and false returned so the model is fetched again. */
  async #cached(digest: string): Promise<boolean> {
    const files = await this.cache.get(digest).catch(() => undefined);
    if (!files) return false;
    try {
      await this.#load(files, digest);
      return true;
    } catch (e) {
      notice(`cached model ${digest} is damaged (${e}); fetching it again`);
      await this.cache.delete(digest).catch(() => {});
      return false;
    }
  }

  /** Has the Worker load `files` (a copy: it may take the buffers), checks the digest it reports
   * against `expect` when given, and serves the model. Resolves with the digest. */
  async #load(files: CheckpointFileMap, expect?: string): Promise<string> {
    const info = await this.host.loadModel(copy(files));
    if (expect !== undefined && info.digest !== expect) {
      throw new ModelTransferError('digest-mismatch', `model ${expect} loaded as ${info.digest}`);
    }
    // The Worker checked config.json while loading it: parsing it again here cannot fail on a
    // checkpoint it accepted.
    const config = parseConfig(parseJsonObject('config.json', files['config.json']!));
    let bytes = 0;
    for (const f of Object.values(files)) bytes += f.byteLength;
    this.#held.set(info.digest, { bytes, summary: modelSummary(config) });
    this.server.add(info.digest, files);
    return info.digest;
  }
}

/** A file map whose buffers are the library's own. */
function copy(files: CheckpointFileMap): CheckpointFileMap {
  const out: CheckpointFileMap = {};
  for (const [name, data] of Object.entries(files)) out[name] = data.slice();
  return out;
}
