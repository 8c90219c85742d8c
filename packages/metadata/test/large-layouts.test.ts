// Goal: objects with many parts stay listable and readable over gRPC. A multipart version's
// layout is about 250 bytes per part (more with long node names); listings used to carry it,
// so a page of fourteen 10 GB objects uploaded in 8 MiB parts passed gRPC's default 4 MB
// message limit and ListObjects failed, and a 10,000-part object with Kubernetes-style node
// names could not be read at all.
// Method: one metadata node in process (real Raft, LevelDB and gRPC), the real MetadataClient,
// parts registered with stripes on long node ids, then GetObject, ListObjects and
// ListObjectVersions of those versions.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningMetadataNode } from '../src/metadata-node';
import { MetadataClient, reservePorts, startInProcessNode, testNodeOptions, waitForLeader } from './cluster-helpers';

const partCount = 10_000;
// 9 node ids of ~60 characters, as DNS names of Kubernetes pods are.
const nodeIds = Array.from({ length: 9 }, (_, i) => `tessera-storage-az-${'abc'[Math.floor(i / 3)]}-${i % 3}.tessera-storage.tessera.svc.cluster.local`);

let root: string;
let node: RunningMetadataNode;
let client: MetadataClient;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-meta-layouts-'));
  const [port] = await reservePorts(1);
  const peers = new Map([['meta-1', `127.0.0.1:${port}`]]);
  node = await startInProcessNode(testNodeOptions('meta-1', peers, join(root, 'meta-1')), 1);
  client = new MetadataClient({ addresses: [...peers.values()], callTimeoutMs: 10_000 });
  await waitForLeader(client, [...peers.values()]);
  await client.createBucket({ bucket: 'large', owner: 'alice' });
  for (const [index, nodeId] of nodeIds.entries()) {
    await client.registerNode({ nodeId, az: `az-${'abc'[Math.floor(index / 3)]}`, address: `127.0.0.1:${7100 + index}`, capacityBytes: 2 ** 40, freeBytes: 2 ** 40 });
  }
}, 30_000);

afterAll(async () => {
  client.close();
  await node.stop();
  await rm(root, { recursive: true, force: true });
});

async function completeManyParts(key: string, count: number): Promise<void> {
  const upload = await client.createMultipartUpload({ bucket: 'large', key, owner: 'alice' });
  const parts: Array<{ partNumber: number; etag: string }> = [];
  for (let first = 1; first <= count; first += 200) {
    const batch = [];
    for (let partNumber = first; partNumber < first + 200 && partNumber <= count; partNumber++) {
      const etag = partNumber.toString(16).padStart(32, '0');
      parts.push({ partNumber, etag });
      batch.push(client.registerPart({
        bucket: 'large', key, uploadId: upload.uploadId, partNumber, sizeBytes: 8 * 1024 * 1024, etag, checksums: { SHA256: 'q'.repeat(43) + '=' },
        stripe: { stripeId: `${key}-part-${partNumber}-0123456789abcdef`, dataShardCount: 6, parityShardCount: 3, blockSizeBytes: 1024 * 1024, shardNodeIds: nodeIds },
      }));
    }
    await Promise.all(batch);
  }
  await client.completeMultipartUpload({ bucket: 'large', key, uploadId: upload.uploadId, parts, checksums: {} });
}

test('a 10,000-part object with long node ids (a layout over 4 MB) is read whole; listings of it carry no layout', async () => {
  await completeManyParts('huge', partCount);
  const got = await client.getObject({ bucket: 'large', key: 'huge' });
  expect(got.multipart?.parts).toHaveLength(partCount);
  expect(got.multipart?.parts[partCount - 1]?.stripe?.shardNodeIds).toEqual(nodeIds);
  expect(got.multipart?.parts[0]?.checksums).toEqual({ SHA256: 'q'.repeat(43) + '=' });

  const listed = await client.listObjects({ bucket: 'large', prefix: '', delimiter: '', startAfter: '', continuationToken: '', maxKeys: 1000 });
  expect(listed.objects.map((o) => [o.key, Number(o.sizeBytes), o.layout])).toEqual([['huge', partCount * 8 * 1024 * 1024, undefined]]);
  const versions = await client.listObjectVersions({ bucket: 'large', prefix: '', delimiter: '', keyMarker: '', versionIdMarker: '', maxKeys: 1000 });
  expect(versions.versions.map((v) => [v.key, v.layout])).toEqual([['huge', undefined]]);
}, 120_000);

test('a page of many-part objects lists in one answer of a few hundred bytes per object, whatever their part counts', async () => {
  await completeManyParts('few', 3);
  const page = await client.listObjects({ bucket: 'large', prefix: '', delimiter: '', startAfter: '', continuationToken: '', maxKeys: 1000 });
  expect(page.objects.map((o) => o.key)).toEqual(['few', 'huge']);
  // The 10,000-part object costs the listing what the 3-part one does.
  const sizeOf = (object: object): number => JSON.stringify(object).length;
  const [few, huge] = page.objects;
  expect(Math.abs(sizeOf(huge ?? {}) - sizeOf(few ?? {}))).toBeLessThan(100);
}, 60_000);
