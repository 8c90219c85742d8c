import { assert } from './assert';

/** Injected randomness: the pure cores never call Math.random. */
export interface Random {
  /** A float in [0, 1). */
  nextFloat(): number;
  /** An integer in [0, bound). */
  nextInt(bound: number): number;
}

/**
 * A small, fast, seedable PRNG (sfc32 seeded through splitmix32). The same seed always gives the
 * same sequence on every platform, which is what simulation replays rely on.
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }
  nextInt(bound: number): number {
    assert(Number.isSafeInteger(bound) && bound > 0, `bound must be a positive integer, got ${bound}`);
    return Math.floor(this.nextFloat() * bound);
  }
  /** Fills `target` with pseudo-random bytes. */
  fillBytes(target: Uint8Array): Uint8Array {
    let i = 0;
    for (; i + 4 <= target.length; i += 4) {
      const v = this.nextUint32();
      target[i] = v & 0xff;
      target[i + 1] = (v >>> 8) & 0xff;
      target[i + 2] = (v >>> 16) & 0xff;
      target[i + 3] = v >>> 24;
    }
    for (; i < target.length; i++) target[i] = this.nextUint32() & 0xff;
    return target;
  }
}

export const systemRandom: Random = {
  nextFloat: () => Math.random(),
  nextInt: (bound: number) => Math.floor(Math.random() * bound),
};
