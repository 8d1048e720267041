/**
 * When a contributor may use the GPU: not while the tab is hidden (if the user asked for that)
 * and not on battery (where the Battery API says so). `wait()` resolves once work may go on.
 */
export class ContributionGate {
  pauseWhenHidden = false;
  #onBattery = false;
  #waiters: (() => void)[] = [];

  constructor() {
    document.addEventListener('visibilitychange', () => this.#recheck());
    const nav = navigator as Navigator & {
      getBattery?: () => Promise<EventTarget & { charging: boolean }>;
    };
    nav
      .getBattery?.()
      .then((battery) => {
        const update = () => {
          this.#onBattery = !battery.charging;
          this.#recheck();
        };
        battery.addEventListener('chargingchange', update);
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

  #recheck() {
    if (this.reason()) return;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Call after changing `pauseWhenHidden`. */
  changed(): void {
    this.#recheck();
  }
}
