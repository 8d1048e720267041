import { css, html, LitElement } from 'lit';
import './contributor-view';
import './jobs-view';
import './ledger-view';
import './local-view';
import './mesh-view';
import './researcher-view';
import { ComputeClient } from '../worker/client';
import { loadMeshConfig, parseEngine } from './config';
import { FAULTS_FLAG, pageFaults } from './faults';
import type { PageHandle } from './handle';
import { TabSession } from './session';
import { SHIPPED_MODEL_URL, type ShippedModel, shippedModel } from './shipped-model';
import { base } from './styles';

/**
 * `<tessel-app>`: the whole page. It owns the tab's session (the compute Worker, consent and
 * the mesh) and hands it to each view: the contributor (the same element other sites embed),
 * the researcher's form, their jobs, the mesh, and the in-tab playground. Removing it stops
 * everything it started.
 */
export class TesselApp extends LitElement {
  static override properties = { session: { state: true } };
  static override styles = [
    base,
    css`
      .columns {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0 1rem;
      }
      @media (min-width: 1100px) {
        .columns {
          grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
        }
      }
    `,
  ];
  declare session: TabSession | undefined;
  #shipped: () => Promise<ShippedModel> = shippedModel();

  override connectedCallback() {
    super.connectedCallback();
    const url = new URL(location.href);
    const faults = url.searchParams.has(FAULTS_FLAG);
    const session = new TabSession({
      config: () => loadMeshConfig(url),
      engine: () => parseEngine('?engine', url.searchParams.get('engine')),
      compute: new ComputeClient({ faults }),
    });
    this.session = session;
    const handle: PageHandle = {
      compute: session.compute,
      session,
      get mesh() {
        return session.mesh;
      },
      join: () => session.join(),
      ...(faults ? { faults: pageFaults(session) } : {}),
    };
    (globalThis as { tessel?: PageHandle }).tessel = handle;
    void session.restore();
    void this.#resumeJobs(session);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    void this.session?.dispose();
    this.session = undefined;
  }

  /** A researcher's unfinished jobs (saved in IndexedDB) go on after a reload: they asked. */
  async #resumeJobs(session: TabSession) {
    const { OwnerStore } = await import('../mesh/store');
    const store = await OwnerStore.open();
    const unfinished = await store.unfinishedJobs().finally(() => store.close());
    if (unfinished.length) await session.join().catch(() => {});
  }

  override render() {
    const s = this.session;
    return html`<div class="columns">
      <div>
        <tessel-contributor .session=${s}></tessel-contributor>
        <tessel-mesh .session=${s}></tessel-mesh>
        <tessel-ledger .session=${s}></tessel-ledger>
      </div>
      <div>
        <tessel-researcher .session=${s} .shipped=${this.#shipped}></tessel-researcher>
        <tessel-jobs .session=${s} .shipped=${this.#shipped}></tessel-jobs>
        <tessel-local
          .compute=${s?.compute}
          .session=${s}
          .shippedUrl=${SHIPPED_MODEL_URL}
          .openCache=${s ? () => s.modelCache() : openModelCache}
        ></tessel-local>
      </div>
    </div>`;
  }
}

/** The browser's model cache (OPFS + IndexedDB; where the browser has neither, one that lasts
 * as long as the page), before the session exists; after, the session's, which its mesh shares,
 * so a limit set on the page applies to the models fetched for jobs at once. */
async function openModelCache() {
  const { BrowserModelCache, MemoryModelCache } = await import('../mesh/model-store');
  return BrowserModelCache.open().catch(() => new MemoryModelCache());
}

customElements.get('tessel-app') ?? customElements.define('tessel-app', TesselApp);
