import type { Clock } from '@tessera/common';
import type { CorsRule } from './cors';

/** How long a gateway answers CORS from a bucket's rules before reading them again. */
export const bucketCorsCacheTtlMs = 5_000;
const cachedBucketCountMax = 10_000;

/**
 * Each bucket's CORS rules as this gateway last read them, for requests that carry `Origin`:
 * a browser sends one with every cross-origin request, and answering each with a metadata read
 * would double the metadata work of a web application. A change made through this gateway is
 * seen at once; one made through another gateway within `bucketCorsCacheTtlMs` (S3 itself
 * applies bucket configuration changes eventually). A missing bucket is remembered as missing
 * for as long (preflights are unauthenticated: random names must not each cost a metadata
 * read); a failed read is not remembered.
 */
export class BucketCorsCache {
  private readonly entries = new Map<string, { readonly rules: readonly CorsRule[] | undefined; readonly readAtMs: number }>();

  constructor(
    /** The bucket's rules, or undefined when there is no such bucket. */
    private readonly readRules: (bucket: string) => Promise<readonly CorsRule[] | undefined>,
    private readonly clock: Clock,
    private readonly ttlMs = bucketCorsCacheTtlMs,
  ) {}

  /** The bucket's rules, undefined for no such bucket; throws what reading them throws otherwise. */
  async rulesOf(bucket: string): Promise<readonly CorsRule[] | undefined> {
    const nowMs = this.clock.monotonicMs();
    const cached = this.entries.get(bucket);
    if (cached !== undefined && nowMs - cached.readAtMs < this.ttlMs) return cached.rules;
    const rules = await this.readRules(bucket);
    if (this.entries.size >= cachedBucketCountMax) this.entries.clear();
    this.entries.set(bucket, { rules, readAtMs: nowMs });
    return rules;
  }

  /** Forgets the bucket (its rules changed, or it was created or deleted, through this gateway). */
  forget(bucket: string): void {
    this.entries.delete(bucket);
  }
}
