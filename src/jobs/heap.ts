/** A binary min-heap of values ordered by a numeric key (deadlines, event times). */
export class MinHeap<T> {
  #keys: number[] = [];
  #vals: T[] = [];

  get size(): number {
    return this.#keys.length;
  }

  /** The smallest key; only valid when size > 0. */
  peekKey(): number {
    return this.#keys[0]!;
  }

  push(key: number, val: T): void {
    const k = this.#keys;
    const v = this.#vals;
    let i = k.length;
    k.push(key);
    v.push(val);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p]! <= key) break;
      k[i] = k[p]!;
      v[i] = v[p]!;
      i = p;
    }
    k[i] = key;
    v[i] = val;
  }

  /** Removes and returns the value with the smallest key; only valid when size > 0. */
  pop(): T {
    const k = this.#keys;
    const v = this.#vals;
    const top = v[0]!;
    const lastK = k.pop()!;
    const lastV = v.pop()!;
    if (k.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= k.length) break;
        const c = l + 1 < k.length && k[l + 1]! < k[l]! ? l + 1 : l;
        if (k[c]! >= lastK) break;
        k[i] = k[c]!;
        v[i] = v[c]!;
        i = c;
      }
      k[i] = lastK;
      v[i] = lastV;
    }
    return top;
  }
}
