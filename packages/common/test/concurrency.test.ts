// Goal: forEachConcurrently runs every item once, takes them in order, never has more than the
// bound in flight, and reports a failure.
import { forEachConcurrently } from '../src/concurrency';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('every item once, started in order, at most the bound in flight', async () => {
  const items = Array.from({ length: 25 }, (_, i) => i);
  const started: number[] = [];
  let inFlight = 0;
  let inFlightMax = 0;
  await forEachConcurrently(items, 4, async (item) => {
    started.push(item);
    inFlight += 1;
    inFlightMax = Math.max(inFlightMax, inFlight);
    for (let i = 0; i < (item % 3) + 1; i += 1) await tick();
    inFlight -= 1;
  });
  expect(started).toEqual(items);
  expect(inFlightMax).toBe(4);
  expect(inFlight).toBe(0);
});

test('no items: resolves without calling; a rejecting call rejects the whole', async () => {
  const calls: number[] = [];
  await forEachConcurrently([], 8, async (item: number) => void calls.push(item));
  expect(calls).toEqual([]);
  await expect(forEachConcurrently([1, 2, 3], 2, async (item) => {
    await tick();
    if (item === 2) throw new Error('item 2 failed');
  })).rejects.toThrow('item 2 failed');
});
