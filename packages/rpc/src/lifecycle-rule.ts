import type { LifecycleRule as LifecycleRuleWire, LifecycleRule__Output as LifecycleRuleWireOutput } from '@tessera/proto/generated/tessera/metadata/v1/LifecycleRule';

/**
 * How a rule's filter was written in the S3 document, so GetBucketLifecycleConfiguration gives
 * it back as given: the legacy top-level `Prefix`, or a `Filter` holding nothing, a `Prefix`,
 * a `Tag`, an object size bound, or an `And` of several.
 */
export type LifecycleFilterForm = 'legacyPrefix' | 'empty' | 'prefix' | 'tag' | 'sizeGreaterThan' | 'sizeLessThan' | 'and';

/**
 * One rule of a bucket's S3 lifecycle configuration: the metadata catalogue stores it, the
 * gateway parses and renders it, the healer applies it. Days count from an object's creation
 * (a noncurrent version's: from when it became noncurrent).
 */
export interface LifecycleRule {
  readonly id?: string;
  readonly enabled: boolean;
  readonly filterForm: LifecycleFilterForm;
  /** Keys must start with it ('' = every key). */
  readonly prefix: string;
  /** Every tag must be on the object (key and value). */
  readonly tags: readonly { readonly key: string; readonly value: string }[];
  readonly objectSizeGreaterThanBytes?: number;
  readonly objectSizeLessThanBytes?: number;
  /** Expiration of current versions: after these days, or from this date (midnight UTC). */
  readonly expirationDays?: number;
  readonly expirationDateMs?: number;
  /** Removes a delete marker that is a key's only version. */
  readonly expiredObjectDeleteMarker?: boolean;
  /** NoncurrentVersionExpiration: days after a version became noncurrent ... */
  readonly noncurrentDays?: number;
  /** ... keeping this many newer noncurrent versions of the key. */
  readonly newerNoncurrentVersions?: number;
  /** AbortIncompleteMultipartUpload: days after initiation. */
  readonly abortIncompleteUploadDays?: number;
}

const filterForms: readonly LifecycleFilterForm[] = ['legacyPrefix', 'empty', 'prefix', 'tag', 'sizeGreaterThan', 'sizeLessThan', 'and'];

/** On the wire (`metadata.proto` LifecycleRule) 0 means absent for days, counts and the date; sizes carry has_ flags. */
export function lifecycleRuleToWire(rule: LifecycleRule): LifecycleRuleWire {
  return {
    id: rule.id ?? '', enabled: rule.enabled, filterForm: rule.filterForm, prefix: rule.prefix, tags: rule.tags.map(({ key, value }) => ({ key, value })),
    objectSizeGreaterThanBytes: rule.objectSizeGreaterThanBytes ?? 0, hasObjectSizeGreaterThan: rule.objectSizeGreaterThanBytes !== undefined,
    objectSizeLessThanBytes: rule.objectSizeLessThanBytes ?? 0, hasObjectSizeLessThan: rule.objectSizeLessThanBytes !== undefined,
    expirationDays: rule.expirationDays ?? 0, expirationDateMs: rule.expirationDateMs ?? 0, expiredObjectDeleteMarker: rule.expiredObjectDeleteMarker ?? false,
    noncurrentDays: rule.noncurrentDays ?? 0, newerNoncurrentVersions: rule.newerNoncurrentVersions ?? 0, abortIncompleteUploadDays: rule.abortIncompleteUploadDays ?? 0,
  };
}

export function lifecycleRuleFromWire(rule: LifecycleRuleWireOutput): LifecycleRule {
  const positive = (value: number): number | undefined => (value > 0 ? value : undefined);
  const form = filterForms.find((candidate) => candidate === rule.filterForm) ?? 'empty';
  return withoutUndefined({
    id: rule.id === '' ? undefined : rule.id,
    enabled: rule.enabled, filterForm: form, prefix: rule.prefix, tags: rule.tags.map(({ key, value }) => ({ key, value })),
    objectSizeGreaterThanBytes: rule.hasObjectSizeGreaterThan ? rule.objectSizeGreaterThanBytes : undefined,
    objectSizeLessThanBytes: rule.hasObjectSizeLessThan ? rule.objectSizeLessThanBytes : undefined,
    expirationDays: positive(rule.expirationDays), expirationDateMs: positive(rule.expirationDateMs),
    expiredObjectDeleteMarker: rule.expiredObjectDeleteMarker ? true : undefined,
    noncurrentDays: positive(rule.noncurrentDays), newerNoncurrentVersions: positive(rule.newerNoncurrentVersions),
    abortIncompleteUploadDays: positive(rule.abortIncompleteUploadDays),
  });
}

/** Optional fields absent rather than undefined (records compare and serialise cleanly). */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
