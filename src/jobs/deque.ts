/** A ring-buffer deque of shard ids. */
export class Deque {
  #buf = new Int32Array(16);
  #head = 0;
  size = 0;
  push(v: number) {
    this.#grow();
    this.#buf[(this.#head + this.size) & (this.#buf.length - 1)] = v;
    this.size++;
  }
  unshift(v: number) {
    this.#grow();
    this.#head = (this.#head - 1) & (this.#buf.length - 1);
    this.#buf[this.#head] = v;
    this.size++;
  }
  items(): number[] {
    return Array.from(
      { length: this.size },
      (_, i) => this.#buf[(this.#head + i) & (this.#buf.length - 1)]!,
    );
  }
  shift(): number | undefined {
    if (this.size === 0) return undefined;
    const v = this.#buf[this.#head]!;
    this.#head = (this.#head + 1) & (this.#buf.length - 1);
    this.size--;
    return v;
  }
  #grow() {
    if (this.size < this.#buf.length) return;
    const next = new Int32Array(this.#buf.length * 2);
    for (let i = 0; i < this.size; i++)
      next[i] = this.#buf[(this.#head + i) & (this.#buf.length - 1)]!;
    this.#buf = next;
    this.#head = 0;
  }
}
