// Goal: the gateway-wide byte budget bounds what concurrent GETs hold without starving anyone.
// Method: the pure ByteBudget driven step by step; a promise's grant is observed by flushing
// microtasks.
import { ByteBudget } from '../src/cluster/byte-budget';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function track(promise: Promise<void>): { granted: () => boolean } {
  let granted = false;
  void promise.then(() => (granted = true));
  return { granted: () => granted };
}

describe('ByteBudget', () => {
  test('grants what fits at once, queues the rest, and grants in order as bytes come back', async () => {
    const seen: number[] = [];
    const budget = new ByteBudget(10, (reservedBytes) => seen.push(reservedBytes));
    await budget.reserve(6);
    const second = track(budget.reserve(6));
    const third = track(budget.reserve(2));
    await flush();
    // The third would fit (6 + 2 <= 10) but waits behind the second: first come, first served.
    expect([second.granted(), third.granted(), budget.waitingCount]).toEqual([false, false, 2]);
    budget.release(6);
    await flush();
    expect([second.granted(), third.granted(), budget.reservedBytes]).toEqual([true, true, 8]);
    budget.release(6);
    budget.release(2);
    expect(budget.reservedBytes).toBe(0);
    expect(seen).toEqual([6, 6, 8, 8, 2, 0]);
  });

  test('tryReserve takes only what fits and never overtakes a waiting reserve', async () => {
    const budget = new ByteBudget(10);
    expect(budget.tryReserve(7)).toBe(true);
    expect(budget.tryReserve(4)).toBe(false);
    expect(budget.tryReserve(3)).toBe(true);
    budget.release(3);
    const waiting = track(budget.reserve(5));
    await flush();
    // 3 bytes are free, but a required reservation waits for 5: the optional one must not take them.
    expect(budget.tryReserve(3)).toBe(false);
    budget.release(7);
    await flush();
    expect(waiting.granted()).toBe(true);
    expect(budget.tryReserve(5)).toBe(true);
    expect(budget.reservedBytes).toBe(10);
  });

  test('a reserve larger than the whole budget is granted alone, once nothing else is held; tryReserve never', async () => {
    const budget = new ByteBudget(10);
    expect(budget.tryReserve(11)).toBe(false);
    await budget.reserve(25);
    expect(budget.reservedBytes).toBe(25);
    budget.release(25);
    await budget.reserve(4);
    const big = track(budget.reserve(25));
    await flush();
    expect(big.granted()).toBe(false);
    budget.release(4);
    await flush();
    expect([big.granted(), budget.reservedBytes]).toEqual([true, 25]);
  });

  test('an aborted wait reserves nothing, and lets the smaller waiters behind it through', async () => {
    const budget = new ByteBudget(10);
    await budget.reserve(6);
    const abort = new AbortController();
    const big = budget.reserve(8, abort.signal);
    const small = track(budget.reserve(4));
    await flush();
    expect(small.granted()).toBe(false);
    abort.abort(new Error('waited too long'));
    await expect(big).rejects.toThrow('waited too long');
    await flush();
    expect([small.granted(), budget.reservedBytes, budget.waitingCount]).toEqual([true, 10, 0]);
    await expect(budget.reserve(1, abort.signal)).rejects.toThrow('waited too long');
    expect(budget.reservedBytes).toBe(10);
  });

  test('releasing more than is reserved is a bug, not a silent negative budget', () => {
    const budget = new ByteBudget(10);
    budget.tryReserve(2);
    expect(() => budget.release(3)).toThrow('release what was reserved');
  });
});
