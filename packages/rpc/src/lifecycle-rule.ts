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

/** S3's day: due times are rounded up to the next midnight UTC. */
export const lifecycleDayMs = 86_400_000;

/** What a rule's filter looks at. */
export interface LifecycleSubject {
  readonly key: string;
  readonly sizeBytes: number;
  readonly tags: readonly { readonly key: string; readonly value: string }[];
}

/** Whether an enabled rule's filter takes the object: prefix, every tag, and the size bounds. */
export function ruleMatches(rule: LifecycleRule, subject: LifecycleSubject): boolean {
  if (!rule.enabled || !subject.key.startsWith(rule.prefix)) return false;
  if (!rule.tags.every((wanted) => subject.tags.some((tag) => tag.key === wanted.key && tag.value === wanted.value))) return false;
  if (rule.objectSizeGreaterThanBytes !== undefined && !(subject.sizeBytes > rule.objectSizeGreaterThanBytes)) return false;
  if (rule.objectSizeLessThanBytes !== undefined && !(subject.sizeBytes < rule.objectSizeLessThanBytes)) return false;
  return true;
}

/**
 * When something that started at `startMs` is `days` days old. S3 adds the days and rounds up
 * to the next midnight UTC; a shorter day length (`--lifecycle-day-ms`, for tests and trials,
 * like RGW's debug interval) counts plainly.
 */
export function dueAtMs(startMs: number, days: number, dayLengthMs: number): number {
  const dueMs = startMs + days * dayLengthMs;
  return dayLengthMs === lifecycleDayMs ? Math.ceil(dueMs / lifecycleDayMs) * lifecycleDayMs : dueMs;
}

/**
 * When a rule's Expiration takes a current version created at `createdAtMs`: its Days counted
 * with `dueAtMs`, or its Date; undefined for a rule without either.
 */
export function expirationDueAtMs(rule: LifecycleRule, createdAtMs: number, dayLengthMs: number): number | undefined {
  if (rule.expirationDays !== undefined) return dueAtMs(createdAtMs, rule.expirationDays, dayLengthMs);
  return rule.expirationDateMs;
}

/** When an object's current version expires under a bucket's rules, and by which rule. */
export interface CurrentVersionExpiry {
  readonly expiresAtMs: number;
  readonly ruleId: string | undefined;
}

/**
 * The earliest expiration of a current version created at `createdAtMs` among the enabled
 * rules whose filter takes it (Expiration Days, counted in S3's days, or Date); undefined when no
 * rule expires it. What S3 announces in `x-amz-expiration`.
 */
export function currentVersionExpiry(rules: readonly LifecycleRule[], subject: LifecycleSubject, createdAtMs: number): CurrentVersionExpiry | undefined {
  let earliest: CurrentVersionExpiry | undefined;
  for (const rule of rules) {
    if (!ruleMatches(rule, subject)) continue;
    const expiresAtMs = expirationDueAtMs(rule, createdAtMs, lifecycleDayMs);
    if (expiresAtMs !== undefined && (earliest === undefined || expiresAtMs < earliest.expiresAtMs)) earliest = { expiresAtMs, ruleId: rule.id };
  }
  return earliest;
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
