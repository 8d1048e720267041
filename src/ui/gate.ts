/**
 * When a contributor may use the GPU: not while the tab is hidden (if the volunteer asked for
 * that) and not on battery (where the Battery API says so). `wait()` resolves once work may go
 * on. It listens to the document and the battery until `dispose()`.
 */
export class ContributionGate {
  pauseWhenHidden: boolean;
  /** Called whenever the reason to pause changes. */
  onChange?: () => void;
  #onBattery = false;
  #waiters: (() => void)[] = [];
  readonly #abort = new AbortController();

  constructor(pauseWhenHidden = true) {
    this.pauseWhenHidden = pauseWhenHidden;
    const signal = this.#abort.signal;
    document.addEventListener('visibilitychange', () => this.changed(), { signal });
    const nav = navigator as Navigator & {
      getBattery?: () => Promise<EventTarget & { charging: boolean }>;
    };
    nav
      .getBattery?.()
      .then((battery) => {
        const update = () => {
          this.#onBattery = !battery.charging;
          this.changed();
        };
        battery.addEventListener('chargingchange', update, { signal });
        update();
      })
      .catch(() => {}); // no Battery API: treat as mains power
  }

  /** Why work is paused, or undefined when it may run. */
  reason(): string | undefined {
    if (this.#onBattery) return 'on battery power';
    if (this.pauseWhenHidden && document.visibilityState === 'hidden') return 'tab hidden';
    return undefined;
  }

  wait(): Promise<void> {
    if (!this.reason()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Re-evaluates after a setting or the environment changed. */
  changed(): void {
    this.onChange?.();
    if (this.reason()) return;
    for (const w of this.#waiters.splice(0)) w();
  }

  dispose(): void {
    this.#abort.abort();
    for (const w of this.#waiters.splice(0)) w();
  }
}
