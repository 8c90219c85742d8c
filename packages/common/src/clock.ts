/**
 * Wall-clock and monotonic time, injected into every service so that tests can control time.
 * Only a composition root (`main.ts`) creates a `systemClock`; everything else receives a Clock.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (wall clock; may jump). */
  nowMs(): number;
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};

/** A clock that moves only when told to; for deterministic tests. */
export class ManualClock implements Clock {
  private wallMs: number;
  private monoMs = 0;
  constructor(startWallMs = 1_700_000_000_000) {
    this.wallMs = startWallMs;
  }
  nowMs(): number {
    return this.wallMs;
  }
  monotonicMs(): number {
    return this.monoMs;
  }
  advanceMs(deltaMs: number): void {
    this.wallMs += deltaMs;
    this.monoMs += deltaMs;
  }
}
