/**
 * Runs `fn` over `items` with at most `concurrencyMax` calls in flight, taking items in order as
 * calls finish; resolves when every call has. A call that rejects rejects the whole (the calls
 * already running still finish on their own), so callers that must go on past a failure catch
 * inside `fn`.
 */
export async function forEachConcurrently<T>(items: readonly T[], concurrencyMax: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrencyMax, items.length) }, worker));
}
