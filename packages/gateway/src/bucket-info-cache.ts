import type { Clock } from '@tessera/common';
import type { BucketInfo } from './backend';

/** How long a gateway uses a bucket's settings (CORS rules, owner, grants) before reading them again. */
export const bucketInfoCacheTtlMs = 5_000;
const cachedBucketCountMax = 10_000;

/**
 * Each bucket's settings as this gateway last read them, for what would otherwise cost a
 * metadata read per request: the CORS rules of requests that carry `Origin` (a browser sends
 * one with every cross-origin request), and the owner and grants that decide what an access
 * key other than root may do (access-policy.ts). A change made through this gateway is seen at
 * once; one made elsewhere (another gateway, `tessera key allow`) within
 * `bucketInfoCacheTtlMs` (S3 itself applies bucket configuration and permission changes
 * eventually). A missing bucket is remembered as missing for as long (preflights are
 * unauthenticated: random names must not each cost a metadata read); a failed read is not
 * remembered.
 */
export class BucketInfoCache {
  private readonly entries = new Map<string, { readonly info: BucketInfo | undefined; readonly readAtMs: number }>();

  constructor(
    /** The bucket's settings, or undefined when there is no such bucket. */
    private readonly readInfo: (bucket: string) => Promise<BucketInfo | undefined>,
    private readonly clock: Clock,
    private readonly ttlMs = bucketInfoCacheTtlMs,
  ) {}

  /**
   * The bucket's settings, undefined for no such bucket; throws what reading them throws
   * otherwise. `rereadMissing`: a bucket remembered as missing is read again (an access decision
   * must not pass on a stale "no such bucket": it may have been created since elsewhere).
   */
  async infoOf(bucket: string, options: { readonly rereadMissing?: boolean } = {}): Promise<BucketInfo | undefined> {
    const nowMs = this.clock.monotonicMs();
    const cached = this.entries.get(bucket);
    if (cached !== undefined && nowMs - cached.readAtMs < this.ttlMs && (cached.info !== undefined || options.rereadMissing !== true)) return cached.info;
    const info = await this.readInfo(bucket);
    if (this.entries.size >= cachedBucketCountMax) this.entries.clear();
    this.entries.set(bucket, { info, readAtMs: nowMs });
    return info;
  }

  /** Forgets the bucket (its settings changed, or it was created or deleted, through this gateway). */
  forget(bucket: string): void {
    this.entries.delete(bucket);
  }
}
