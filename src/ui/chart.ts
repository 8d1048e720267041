import { css, html, LitElement, type PropertyValues, unsafeCSS } from 'lit';
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';

/**
 * A small live time-series chart (uPlot) of one series: `points` are [seconds since the epoch,
 * value]. The chart follows its container's width and is redrawn when `points` changes; the
 * uPlot instance is destroyed when the element leaves the page.
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
        min-height: 150px;
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
    ></div>`;
  }

  override firstUpdated() {
    this.#mount();
  }

  override connectedCallback() {
    super.connectedCallback();
    if (this.hasUpdated && !this.#plot) this.#mount(); // moved or re-added
  }

  #mount() {
    const host = this.renderRoot.querySelector('div') as HTMLDivElement;
    this.#plot = new uPlot(
      {
        width: Math.max(200, this.clientWidth || 300),
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
      this.#plot?.setSize({ width: Math.max(200, this.clientWidth), height: 140 });
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

customElements.get('tessel-chart') ?? customElements.define('tessel-chart', TesselChart);
