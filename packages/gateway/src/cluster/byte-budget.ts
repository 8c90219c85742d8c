/**
 * A gateway-wide budget of bytes, handed out first come, first served: GETs reserve their read
 * windows from it, so the shard data all concurrent GETs hold together stays bounded (without
 * it, 200 concurrent 16 MiB GETs held about 1 GiB). Pure logic, no I/O.
 *
 * Also the budget of streamed PUT bodies kept for a retry (body-storage.ts), which only ever
 * uses `tryReserve`.
 *
 * A `reserve` larger than the whole budget is granted alone, once nothing else is reserved, so
 * no request waits forever; `tryReserve` grants only what fits. `tryReserve` never overtakes a
 * waiting `reserve`: an optional reservation (a window read ahead) must not starve a required
 * one (another GET's next window).
 */
import { assert } from '@tessera/common';

export class ByteBudget {
  private reservedTotalBytes = 0;
  private readonly waiters: { readonly bytes: number; readonly grant: () => void }[] = [];

  /** `onChange` is told the reserved total after every change (a metrics gauge). */
  constructor(readonly capacityBytes: number, private readonly onChange: (reservedBytes: number) => void = () => undefined) {
    assert(Number.isFinite(capacityBytes) && capacityBytes > 0, 'capacityBytes > 0');
  }

  get reservedBytes(): number {
    return this.reservedTotalBytes;
  }

  /** Reservations waiting for budget. */
  get waitingCount(): number {
    return this.waiters.length;
  }

  /**
   * Resolves once `bytes` are reserved for the caller, who must `release` them exactly once.
   * When `signal` aborts first, the wait ends with its reason and nothing is reserved.
   */
  reserve(bytes: number, signal?: AbortSignal): Promise<void> {
    assert(bytes >= 0, 'bytes >= 0');
    if (this.waiters.length === 0 && (this.fits(bytes) || this.reservedTotalBytes === 0)) {
      this.take(bytes);
      return Promise.resolve();
    }
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index < 0) return;
        this.waiters.splice(index, 1);
        // The one that gave up may have held back smaller reservations behind it.
        this.grantWaiting();
        reject(signal?.reason);
      };
      const waiter = {
        bytes,
        grant: (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Reserves `bytes` only if that needs no waiting (and nobody is waiting). */
  tryReserve(bytes: number): boolean {
    assert(bytes >= 0, 'bytes >= 0');
    if (this.waiters.length > 0 || !this.fits(bytes)) return false;
    this.take(bytes);
    return true;
  }

  release(bytes: number): void {
    assert(bytes >= 0 && bytes <= this.reservedTotalBytes, 'release what was reserved');
    this.reservedTotalBytes -= bytes;
    this.grantWaiting();
    this.onChange(this.reservedTotalBytes);
  }

  /** Grants waiters in order while the first one fits. */
  private grantWaiting(): void {
    for (let next = this.waiters[0]; next !== undefined && (this.fits(next.bytes) || this.reservedTotalBytes === 0); next = this.waiters[0]) {
      this.waiters.shift();
      this.take(next.bytes);
      next.grant();
    }
  }

  private fits(bytes: number): boolean {
    return this.reservedTotalBytes + bytes <= this.capacityBytes;
  }

  private take(bytes: number): void {
    this.reservedTotalBytes += bytes;
    this.onChange(this.reservedTotalBytes);
  }
}
