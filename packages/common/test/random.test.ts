// SeededRandom must replay exactly for a given seed (simulation replays depend on it) and
// spread its values over the whole range.
import { SeededRandom, assert, AssertionError } from '@tessera/common';

describe('SeededRandom', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const seqA = Array.from({ length: 100 }, () => a.nextUint32());
    const seqB = Array.from({ length: 100 }, () => b.nextUint32());
    const seqC = Array.from({ length: 100 }, () => c.nextUint32());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
  });

  it('draws integers uniformly enough below the bound', () => {
    const r = new SeededRandom(7);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.nextInt(10)]! += 1;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(600);
  });
});

describe('assert', () => {
  it('throws an AssertionError naming the broken condition', () => {
    expect(() => assert(false, 'shard index within the stripe')).toThrow(AssertionError);
    expect(() => assert(false, 'x < y')).toThrow('assertion failed: x < y');
  });
});
