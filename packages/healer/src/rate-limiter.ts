import { assert } from '@tessera/common';

/**
 * Token bucket in bytes: `take(n)` waits until n bytes fit the rate. The burst is one second
 * of rate, so a change of rate (operator priority) takes effect within a second. Requests
 * larger than the burst are let through once the bucket is full and leave it in debt, so a
 * large window never deadlocks.
 */
export class RateLimiter {
  private tokens: number;
  private lastRefillMs: number;

  constructor(private rateBytesPerSecondValue: number, private readonly nowMs: () => number = () => performance.now()) {
    assert(rateBytesPerSecondValue > 0, 'rate > 0');
    this.tokens = rateBytesPerSecondValue;
    this.lastRefillMs = nowMs();
  }

  get rateBytesPerSecond(): number {
    return this.rateBytesPerSecondValue;
  }

  setRate(rateBytesPerSecond: number): void {
    assert(Number.isFinite(rateBytesPerSecond) && rateBytesPerSecond > 0, 'rate > 0');
    this.refill();
    this.rateBytesPerSecondValue = rateBytesPerSecond;
    this.tokens = Math.min(this.tokens, rateBytesPerSecond);
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    assert(bytes >= 0, 'bytes >= 0');
    for (;;) {
      signal?.throwIfAborted();
      this.refill();
      const needed = Math.min(bytes, this.rateBytesPerSecondValue);
      if (this.tokens >= needed) {
        this.tokens -= bytes;
        return;
      }
      const waitMs = Math.max(1, Math.ceil(((needed - this.tokens) / this.rateBytesPerSecondValue) * 1000));
      await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 250)));
    }
  }

  private refill(): void {
    const now = this.nowMs();
    const elapsedMs = now - this.lastRefillMs;
    this.lastRefillMs = now;
    this.tokens = Math.min(this.rateBytesPerSecondValue, this.tokens + (elapsedMs / 1000) * this.rateBytesPerSecondValue);
  }
}
