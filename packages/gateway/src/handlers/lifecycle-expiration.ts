/**
 * S3's `x-amz-expiration` response header: when a bucket's lifecycle configuration will expire
 * the object a PutObject, CopyObject or CompleteMultipartUpload wrote, or a GetObject or
 * HeadObject read (its current version), and by which rule:
 * `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="<URL-encoded rule ID>"`. The date is
 * the earliest among the enabled rules with an Expiration whose filter takes the object (prefix,
 * tags, size), from `currentVersionExpiry`, the same evaluation the healer's sweep uses. The
 * rules come from the gateway's bucket cache, so a change made through another gateway shows
 * within its TTL.
 */
import { currentVersionExpiry } from '@tessera/rpc';
import type { LifecycleRule } from '@tessera/rpc';
import type { ObjectInfo } from '../backend';
import type { HandlerContext } from '../handler-context';

/** The header for an object under these rules, or none when no rule expires it. */
export function expirationHeaderOf(rules: readonly LifecycleRule[], info: ObjectInfo): Record<string, string> {
  if (rules.length === 0) return {};
  const expiry = currentVersionExpiry(rules, { key: info.key, sizeBytes: info.sizeBytes, tags: info.headers.tags }, info.lastModifiedMs);
  if (expiry === undefined) return {};
  return { 'x-amz-expiration': `expiry-date="${new Date(expiry.expiresAtMs).toUTCString()}", rule-id="${encodeURIComponent(expiry.ruleId ?? '')}"` };
}

/**
 * The header for `info` in `bucket`. The object was already written or read: a failure to read
 * the bucket's rules costs the header, never the answer.
 */
export async function lifecycleExpirationHeader(ctx: HandlerContext, bucket: string, info: ObjectInfo): Promise<Record<string, string>> {
  try {
    const rules = (await ctx.bucketCache.infoOf(bucket))?.lifecycleRules ?? [];
    return expirationHeaderOf(rules, info);
  } catch (error) {
    ctx.logger.debug('x-amz-expiration left out: the bucket settings could not be read', { bucket, message: (error as Error).message });
    return {};
  }
}
