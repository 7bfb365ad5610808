/**
 * A streaming 64-bit hash of the event log (two murmur3-style 32-bit lanes). Not cryptographic:
 * it only has to change when any logged number changes, and cost nothing in the event loop.
 * Pure TypeScript so the determinism test can run it inside workerd.
 */

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function mixWord(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = rotl(k, 15);
  k = Math.imul(k, 0x1b873593);
  const x = rotl(h ^ k, 13);
  return (Math.imul(x, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Accumulates integers (up to 2^53) and strings into a 16-hex-digit digest. */
export class EventHash {
  private h1 = 0x2545f491;
  private h2 = 0x9e3779b9;
  private count = 0;

  /** Adds a safe integer (negative values are folded too). */
  int(x: number): void {
    const lo = x | 0;
    const hi = Math.floor(x / 4_294_967_296) | 0;
    this.h1 = mixWord(this.h1, lo);
    this.h2 = mixWord(this.h2, hi ^ this.h1);
    this.count++;
  }

  text(s: string): void {
    for (let i = 0; i < s.length; i++) this.int(s.charCodeAt(i));
    this.int(s.length);
  }

  digest(): string {
    const a = fmix(this.h1 ^ this.count);
    const b = fmix(this.h2 ^ a);
    return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
  }
}
