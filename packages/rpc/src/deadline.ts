/** Every gRPC call carries a deadline; this is the one way to make one. */
export function deadlineAfterMs(timeoutMs: number): Date {
  return new Date(Date.now() + timeoutMs);
}
