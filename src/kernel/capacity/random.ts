/**
 * Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32). Kernel code takes an
 * `Rng` instead of calling Math.random, so jitter is reproducible in tests and in the simulator;
 * a Durable Object seeds one from `crypto.getRandomValues`.
 */

/** A source of uniform random numbers. */
export interface Rng {
  /** Uniform in [0, 1), 32 bits of resolution. */
  nextFloat(): number;
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
}

/** splitmix32 step: spreads any 32-bit seed over the state so nearby seeds diverge at once. */
function splitmix32(x: number): [number, number] {
  const next = (x + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/** FNV-1a over a string, for naming independent streams. */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A 32-bit seed for the stream `label` of run `seed`. Streams with different labels are
 * independent, so adding draws to one (say, failures) does not shift another (arrivals).
 *
 * @example const arrivals = createRng(deriveSeed(1, "arrivals"));
 */
export function deriveSeed(seed: number, label: string): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  let [state, out] = splitmix32(lo ^ fnv1a32(label));
  [state, out] = splitmix32(state ^ hi ^ out);
  return out;
}

/** xoshiro128**: small, fast, and good enough for simulation and jitter. */
export class Xoshiro128 implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(x);
      x = next;
      words.push(out);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  nextFloat(): number {
    return this.nextUint32() / 4_294_967_296;
  }

  /** The generator's state, to persist and resume a stream exactly. */
  exportState(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  importState(state: readonly [number, number, number, number]): void {
    [this.s0, this.s1, this.s2, this.s3] = state;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A seeded generator.
 *
 * @example createRng(42).nextFloat() // the same value on every run
 */
export function createRng(seed: number): Xoshiro128 {
  return new Xoshiro128(seed);
}
