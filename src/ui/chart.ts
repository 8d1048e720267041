import { css, html, LitElement, nothing, type PropertyValues, unsafeCSS } from 'lit';
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';

/**
 * A small live time-series chart (uPlot) of one series: `points` are [seconds since the epoch,
 * value]. The chart follows its container's width and is redrawn when `points` changes; the
 * uPlot instance is destroyed when the element leaves the page. Without points it shows a short
 * "No data yet" (`.empty`) instead of empty axes.
 */
export class TesselChart extends LitElement {
  static override properties = {
    label: { type: String },
    unit: { type: String },
    points: { attribute: false },
  };
  static override styles = [
    unsafeCSS(uPlotCss),
    css`
      :host {
        display: block;
        max-width: 100%;
        overflow: hidden;
      }
      .empty {
        margin: 0;
        padding: 0.5rem 0.75rem;
        color: #4a5563;
        border: 1px dashed #dde3ea;
        border-radius: 6px;
        font-size: 0.9rem;
      }
    `,
  ];
  declare label: string;
  declare unit: string;
  declare points: [number, number][];
  #plot: uPlot | undefined;
  #resize: ResizeObserver | undefined;

  constructor() {
    super();
    this.label = '';
    this.unit = '';
    this.points = [];
  }

  override render() {
    // The numbers, for screen readers and for anyone without the picture.
    const last = this.points.at(-1);
    return html`<div
      role="img"
      aria-label="${this.label}: ${last ? `latest ${last[1].toFixed(2)} ${this.unit}` : 'no data yet'}"
    >
      <div class="plot" ?hidden=${!last}></div>
      ${last ? nothing : html`<p class="empty">No data yet</p>`}
    </div>`;
  }

  override firstUpdated() {
    this.#mount();
  }

  override connectedCallback() {
    super.connectedCallback();
    if (this.hasUpdated && !this.#plot) this.#mount(); // moved or re-added
  }

  #mount() {
    const host = this.renderRoot.querySelector('.plot') as HTMLDivElement;
    this.#plot = new uPlot(
      {
        width: plotWidth(this.clientWidth || 300),
        height: 140,
        legend: { show: false },
        scales: { x: { time: true } },
        axes: [{}, { label: this.unit, size: 50 }],
        series: [{}, { label: this.label, stroke: '#1d5fd1', width: 2, fill: '#1d5fd122' }],
      },
      this.#data(),
      host,
    );
    this.#resize = new ResizeObserver(() => {
      if (this.clientWidth)
        this.#plot?.setSize({ width: plotWidth(this.clientWidth), height: 140 });
    });
    this.#resize.observe(this);
  }

  override updated(changed: PropertyValues<this>) {
    if (changed.has('points')) this.#plot?.setData(this.#data());
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#resize?.disconnect();
    this.#resize = undefined;
    this.#plot?.destroy();
    this.#plot = undefined;
  }

  #data(): uPlot.AlignedData {
    return [this.points.map((p) => p[0]), this.points.map((p) => p[1])];
  }
}

/** The plot's width in its container: all of it, but never under 160 px (axes need room). */
function plotWidth(container: number): number {
  return Math.max(160, container);
}

customElements.get('tessel-chart') ?? customElements.define('tessel-chart', TesselChart);
