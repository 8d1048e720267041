/** A source of uniformly random 32-bit words. */
export interface Rng {
  nextUint32(): number;
}

/**
 * Unpredictable randomness from the platform CSPRNG (Web Crypto, also in Node ≥ 19).
 * Verifiers use it by default so a contributor cannot guess the check vectors.
 */
export function cryptoRng(): Rng {
  const buf = new Uint32Array(256);
  let i = buf.length;
  return {
    nextUint32() {
      if (i === buf.length) {
        globalThis.crypto.getRandomValues(buf);
        i = 0;
      }
      return buf[i++]!;
    },
  };
}

/** A seeded, reproducible generator (xoshiro128**) for tests and simulations. */
export function seededRng(seed: number): Rng {
  // splitmix32 spreads the seed over the four words of state
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return {
    nextUint32() {
      const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      return result;
    },
  };
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** A float in [0, 1) with 32 random bits. */
export function uniform(rng: Rng): number {
  return rng.nextUint32() / 2 ** 32;
}
