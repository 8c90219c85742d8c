/**
 * Goal: ClusterS3Backend meets the same S3Backend contract as the in-memory twin (atomic
 * commits, failed bodies leave nothing, pinned readers, conditional writes, listing with
 * delimiters, multipart semantics). Method: the shared compliance suite, run against the
 * backend of a real cluster (3 metadata nodes, 9 storage nodes, the gateway) started once; each
 * case gets an emptied bucket.
 */
import { describeS3BackendCompliance } from '../support/backend-compliance';
import { startTestCluster } from './cluster-fixture';
import type { TestCluster } from './cluster-fixture';

jest.setTimeout(60_000);

let cluster: TestCluster | undefined;

afterAll(async () => {
  await cluster?.stop();
});

async function emptyAndDeleteBucket(target: TestCluster, bucket: string): Promise<void> {
  const backend = target.gateway.backend;
  const buckets = await backend.listBuckets();
  if (!buckets.some((b) => b.name === bucket)) return;
  for (;;) {
    const page = await backend.listObjects({ bucket, prefix: '', delimiter: undefined, startAfter: undefined, skipPrefix: undefined, maxKeys: 1000 });
    for (const entry of page.entries) if (entry.kind === 'object') await backend.deleteObject(bucket, entry.object.key);
    if (!page.isTruncated) break;
  }
  const uploads = await backend.listMultipartUploads({ bucket, prefix: '', delimiter: undefined, keyMarker: undefined, uploadIdMarker: undefined, maxUploads: 1000, skipPrefix: undefined });
  for (const entry of uploads.entries) if (entry.kind === 'upload') await backend.abortMultipartUpload(bucket, entry.upload.key, entry.upload.uploadId);
  await backend.deleteBucket(bucket);
}

describeS3BackendCompliance('cluster (RS 6+3 over 9 storage nodes)', async () => {
  // The suite uses tiny parts: the 5 MiB minimum is the protocol layer's check, not the backend's.
  cluster ??= await startTestCluster({ partSizeBytesMin: 1 });
  const current = cluster;
  await emptyAndDeleteBucket(current, 'bkt');
  return { backend: current.gateway.backend, cleanup: () => emptyAndDeleteBucket(current, 'bkt') };
});
