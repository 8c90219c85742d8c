/**
 * Assertions are for invariants and preconditions: a failed assertion is a bug in Tessera,
 * never an operating error (disk full, peer down, bad request), so `AssertionError` is never
 * caught and handled. One condition per call, with a message that says what must hold.
 */
export class AssertionError extends Error {
  static readonly errorName = 'AssertionError';
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = AssertionError.errorName;
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Exhaustiveness check for `switch` over a closed union. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
