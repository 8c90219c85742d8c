/**
 * Goal: the rebuild throttle admits bytes at its rate, lets a request larger than the burst
 * through (in debt) rather than deadlock, and applies a new rate at once. Method: jest fake
 * timers drive both the limiter's clock (Date.now) and its sleeps, so no test waits for real.
 */
import { RateLimiter } from '../src/rate-limiter';

describe('RateLimiter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  async function settledAfter(promise: Promise<void>, advanceMs: number): Promise<boolean> {
    let done = false;
    void promise.then(() => (done = true));
    await jest.advanceTimersByTimeAsync(advanceMs);
    return done;
  }

  test('a full bucket admits one second of rate, then waits for refill', async () => {
    const limiter = new RateLimiter(1000, () => Date.now());
    expect(await settledAfter(limiter.take(1000), 0)).toBe(true);
    const next = limiter.take(500);
    expect(await settledAfter(next, 300)).toBe(false);
    expect(await settledAfter(next, 300)).toBe(true);
  });

  test('a request above the burst passes once the bucket is full, leaving debt', async () => {
    const limiter = new RateLimiter(1000, () => Date.now());
    expect(await settledAfter(limiter.take(5000), 0)).toBe(true);
    // 4000 bytes of debt: the next 1-byte request waits about four seconds.
    const next = limiter.take(1);
    expect(await settledAfter(next, 3900)).toBe(false);
    expect(await settledAfter(next, 200)).toBe(true);
  });

  test('setRate takes effect for waiting and later requests', async () => {
    const limiter = new RateLimiter(100, () => Date.now());
    await limiter.take(100);
    const waiting = limiter.take(100);
    limiter.setRate(100_000);
    expect(await settledAfter(waiting, 300)).toBe(true);
    expect(limiter.rateBytesPerSecond).toBe(100_000);
  });
});
