/**
 * S3 lifecycle rules, applied by the healer: expiration of current versions (Days or Date; in a
 * bucket with versioning this adds a delete marker, as in S3), NoncurrentVersionExpiration
 * (NoncurrentDays, keeping NewerNoncurrentVersions), ExpiredObjectDeleteMarker (a delete marker
 * that is its key's only version) and AbortIncompleteMultipartUpload. Every action is an
 * ordinary metadata command: an expiration deletes only if the key's current version is still
 * the one judged expired (a write in between wins), a version is deleted by its id, an upload is
 * aborted like a client's abort, so data goes through the usual garbage collection.
 *
 * The rule evaluation is pure (matching and due times in @tessera/rpc's lifecycle-rule.ts, shared
 * with the gateway's `x-amz-expiration` header); `applyLifecycle` is the sweep.
 */
import type { ObjectVersion__Output } from '@tessera/proto/generated/tessera/metadata/v1/ObjectVersion';
import {
  decodeStoredTags, dueAtMs, expirationDueAtMs, lifecycleRuleFromWire, NoSuchBucketError, NoSuchUploadError, ObjectLockedError, PreconditionFailedError, ruleMatches,
  tagsMetadataKey,
} from '@tessera/rpc';
import type { LifecycleRule, LifecycleSubject, MetadataClient } from '@tessera/rpc';

/** Whether a current version created at `createdAtMs` has expired under the rule. */
export function currentVersionExpired(rule: LifecycleRule, createdAtMs: number, nowMs: number, dayLengthMs: number): boolean {
  const dueMs = expirationDueAtMs(rule, createdAtMs, dayLengthMs);
  return dueMs !== undefined && nowMs >= dueMs;
}

/** One version of a key as the sweep sees it (ListObjectVersions, newest first). */
export interface KeyVersion extends LifecycleSubject {
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly createdAtMs: number;
}

/**
 * Which versions of one key (all of them, newest first) the rules remove: noncurrent versions
 * past NoncurrentDays since they became noncurrent (when the next newer version was made),
 * beyond the NewerNoncurrentVersions to keep; and the latest version if it is a delete marker
 * left alone (every other version gone) and a rule asks for ExpiredObjectDeleteMarker.
 */
export function versionsToRemove(rules: readonly LifecycleRule[], versions: readonly KeyVersion[], nowMs: number, dayLengthMs: number): KeyVersion[] {
  const removed: KeyVersion[] = [];
  versions.forEach((version, index) => {
    if (index === 0) return;
    const noncurrentSinceMs = versions[index - 1]?.createdAtMs ?? version.createdAtMs;
    const newerNoncurrentCount = index - 1;
    const expired = rules.some((rule) =>
      rule.noncurrentDays !== undefined && ruleMatches(rule, version)
      && nowMs >= dueAtMs(noncurrentSinceMs, rule.noncurrentDays, dayLengthMs)
      && newerNoncurrentCount >= (rule.newerNoncurrentVersions ?? 0));
    if (expired) removed.push(version);
  });
  const latest = versions[0];
  const aloneAfter = versions.length - removed.length === 1;
  if (latest?.deleteMarker === true && aloneAfter && rules.some((rule) => rule.expiredObjectDeleteMarker === true && ruleMatches(rule, latest))) removed.push(latest);
  return removed;
}

export interface LifecycleSweepResult {
  readonly expiredObjectCount: number;
  readonly expiredNoncurrentVersionCount: number;
  readonly removedDeleteMarkerCount: number;
  readonly abortedUploadCount: number;
}

type LifecycleMetadata = Pick<MetadataClient, 'listBuckets' | 'listObjects' | 'listObjectVersions' | 'deleteObject' | 'listMultipartUploads' | 'abortMultipartUpload'>;

const pageSize = 1000;

/**
 * One sweep of every bucket that has lifecycle rules, as of `nowMs`. A bucket deleted meanwhile
 * is skipped; a version or upload gone meanwhile, or a key written again, is left alone. Several
 * healers sweeping at once only repeat deletes that then change nothing.
 */
export async function applyLifecycle(metadata: LifecycleMetadata, nowMs: number, dayLengthMs: number, signal: AbortSignal): Promise<LifecycleSweepResult> {
  const totals = { expiredObjectCount: 0, expiredNoncurrentVersionCount: 0, removedDeleteMarkerCount: 0, abortedUploadCount: 0 };
  for (const bucket of await metadata.listBuckets()) {
    const rules = bucket.lifecycleRules.map(lifecycleRuleFromWire).filter((rule) => rule.enabled);
    if (rules.length === 0) continue;
    try {
      totals.expiredObjectCount += await expireCurrentVersions(metadata, bucket.name, rules, nowMs, dayLengthMs, signal);
      if (bucket.versioning !== 'Unversioned' && rules.some((rule) => rule.noncurrentDays !== undefined || rule.expiredObjectDeleteMarker === true)) {
        const removed = await removeVersions(metadata, bucket.name, rules, nowMs, dayLengthMs, signal);
        totals.expiredNoncurrentVersionCount += removed.noncurrent;
        totals.removedDeleteMarkerCount += removed.markers;
      }
      totals.abortedUploadCount += await abortIncompleteUploads(metadata, bucket.name, rules, nowMs, dayLengthMs, signal);
    } catch (error) {
      if (!(error instanceof NoSuchBucketError)) throw error;
    }
  }
  return totals;
}

function subjectOf(version: ObjectVersion__Output): LifecycleSubject {
  return { key: version.key, sizeBytes: version.sizeBytes, tags: decodeStoredTags(version.systemMetadata[tagsMetadataKey]) };
}

function checkStopped(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('healer stopped');
}

async function expireCurrentVersions(metadata: LifecycleMetadata, bucket: string, rules: readonly LifecycleRule[], nowMs: number, dayLengthMs: number, signal: AbortSignal): Promise<number> {
  let expired = 0;
  for (const rule of rules.filter((candidate) => candidate.expirationDays !== undefined || candidate.expirationDateMs !== undefined)) {
    let continuationToken = '';
    for (;;) {
      checkStopped(signal);
      const page = await metadata.listObjects({ bucket, prefix: rule.prefix, delimiter: '', startAfter: '', continuationToken, maxKeys: pageSize });
      for (const object of page.objects) {
        if (!ruleMatches(rule, subjectOf(object)) || !currentVersionExpired(rule, object.createdAtMs, nowMs, dayLengthMs)) continue;
        try {
          // Only this version: a PUT since the listing makes the key young again.
          await metadata.deleteObject(bucket, object.key, '', { createdAtMs: object.createdAtMs, etag: object.etag });
          expired++;
        } catch (error) {
          if (!(error instanceof PreconditionFailedError)) throw error;
        }
      }
      if (!page.isTruncated) break;
      continuationToken = page.nextContinuationToken;
    }
  }
  return expired;
}

async function removeVersions(
  metadata: LifecycleMetadata, bucket: string, rules: readonly LifecycleRule[], nowMs: number, dayLengthMs: number, signal: AbortSignal,
): Promise<{ noncurrent: number; markers: number }> {
  const counts = { noncurrent: 0, markers: 0 };
  let group: KeyVersion[] = [];
  const settle = async (): Promise<void> => {
    const versions = group;
    group = [];
    for (const version of versionsToRemove(rules, versions, nowMs, dayLengthMs)) {
      // By id: deleting a version is always safe, and one gone meanwhile is not counted. A
      // version under Object Lock retention or legal hold is kept (the catalogue refuses it).
      let deleted: boolean;
      try {
        deleted = (await metadata.deleteObject(bucket, version.key, version.versionId)).deleted;
      } catch (error) {
        if (error instanceof ObjectLockedError) continue;
        throw error;
      }
      if (!deleted) continue;
      if (version === versions[0]) counts.markers++;
      else counts.noncurrent++;
    }
  };
  let keyMarker = '';
  let versionIdMarker = '';
  for (;;) {
    checkStopped(signal);
    const page = await metadata.listObjectVersions({ bucket, prefix: '', delimiter: '', keyMarker, versionIdMarker, maxKeys: pageSize });
    for (const version of page.versions) {
      // A key's versions may run over pages: they are judged together, once the next key starts.
      if (group.length > 0 && group[0]?.key !== version.key) await settle();
      group.push({ ...subjectOf(version), versionId: version.versionId, deleteMarker: version.deleteMarker, createdAtMs: version.createdAtMs });
    }
    if (!page.isTruncated) break;
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker;
  }
  await settle();
  return counts;
}

async function abortIncompleteUploads(
  metadata: LifecycleMetadata, bucket: string, rules: readonly LifecycleRule[], nowMs: number, dayLengthMs: number, signal: AbortSignal,
): Promise<number> {
  let aborted = 0;
  for (const rule of rules.filter((candidate) => candidate.abortIncompleteUploadDays !== undefined)) {
    const days = rule.abortIncompleteUploadDays ?? 0;
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      checkStopped(signal);
      const page = await metadata.listMultipartUploads({ bucket, prefix: rule.prefix, keyMarker, uploadIdMarker, maxUploads: pageSize });
      for (const upload of page.uploads) {
        if (nowMs < dueAtMs(upload.initiatedAtMs, days, dayLengthMs)) continue;
        try {
          await metadata.abortMultipartUpload({ bucket, key: upload.key, uploadId: upload.uploadId });
          aborted++;
        } catch (error) {
          if (!(error instanceof NoSuchUploadError)) throw error;
        }
      }
      if (!page.isTruncated) break;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker;
    }
  }
  return aborted;
}
