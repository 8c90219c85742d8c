// Goal: three metadata nodes in one process, over real gRPC on loopback and real LevelDB,
// behave as one linearizable catalogue: writes on any node (followers answer with a leader hint
// the client follows), reads everywhere, typed errors across the wire, snapshot catch-up (the
// SSE-S3 master key included).
// Method: startMetadataNode x3 in temp dirs, drive them with the real MetadataClient.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BucketNotEmptyError, NoSuchWriteError, InvalidBucketNameError, KeyTooLongError, NoSuchKeyError, NoSuchUploadError, NotLeaderError,
  PreconditionFailedError, StorageNodeNotEmptyError, StorageNodeRemovedError,
} from '@tessera/rpc';
import * as grpc from '@grpc/grpc-js';
import { createJsonLogger, silentLogger } from '@tessera/common';
import { loadProto } from '@tessera/proto';
import type { ProtoGrpcType as MetadataProto } from '@tessera/proto/generated/metadata';
import type { RunningMetadataNode } from '../src/metadata-node';
import { MetadataClient, reservePorts, startInProcessNode, testNodeOptions, waitFor, waitForLeader } from './cluster-helpers';

const md5 = '0123456789abcdef0123456789abcdef';
let root: string;
let peers: Map<string, string>;
let nodes: Map<string, RunningMetadataNode>;
let client: MetadataClient;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-meta-cluster-'));
  const ports = await reservePorts(3);
  peers = new Map(ports.map((port, i) => [`meta-${i + 1}`, `127.0.0.1:${port}`]));
  nodes = new Map();
  await Promise.all([...peers.keys()].map(async (id, i) => {
    nodes.set(id, await startInProcessNode(testNodeOptions(id, peers, join(root, id), { snapshotEveryEntryCount: 50 }), i + 1));
  }));
  client = new MetadataClient({ addresses: [...peers.values()], callTimeoutMs: 3_000 });
});

afterAll(async () => {
  client.close();
  await Promise.all([...nodes.values()].map((n) => n.stop()));
  await rm(root, { recursive: true, force: true });
});

test('a leader is elected and writes through any address reach it', async () => {
  const leader = await waitForLeader(client, [...peers.values()]);
  expect(peers.has(leader)).toBe(true);
  // Point a client at a follower only: it must follow the hint.
  const follower = [...peers.entries()].find(([id]) => id !== leader)?.[1] ?? '';
  const viaFollower = new MetadataClient({ addresses: [follower] });
  const bucket = await viaFollower.createBucket({ bucket: 'photos', owner: 'alice' });
  expect(bucket.name).toBe('photos');
  expect(viaFollower.currentAddress).toBe(peers.get(leader));
  viaFollower.close();
});

test('objects: inline put, get, list with delimiter, delete; typed errors cross gRPC', async () => {
  await client.createBucket({ bucket: 'docs', owner: 'alice' }).catch(() => undefined);
  for (const key of ['a/1', 'a/2', 'b', 'c/x/y']) {
    await client.commitVersion({ bucket: 'docs', key, sizeBytes: 2, etag: md5, inlineData: Buffer.from('hi'), contentType: 'text/plain' });
  }
  const got = await client.getObject({ bucket: 'docs', key: 'b' });
  expect([got.layout, Buffer.from(got.inlineData ?? '').toString(), got.contentType]).toEqual(['inlineData', 'hi', 'text/plain']);
  const page = await client.listObjects({ bucket: 'docs', delimiter: '/', maxKeys: 1000 });
  expect(page.commonPrefixes).toEqual(['a/', 'c/']);
  expect(page.objects.map((o) => o.key)).toEqual(['b']);
  await expect(client.getObject({ bucket: 'docs', key: 'nope' })).rejects.toBeInstanceOf(NoSuchKeyError);
  await expect(client.createBucket({ bucket: 'Bad_Name', owner: 'x' })).rejects.toBeInstanceOf(InvalidBucketNameError);
  await expect(client.commitVersion({ bucket: 'docs', key: 'k'.repeat(1025), sizeBytes: 0, etag: md5, inlineData: Buffer.alloc(0) })).rejects.toBeInstanceOf(KeyTooLongError);
  await expect(client.deleteBucket('docs')).rejects.toBeInstanceOf(BucketNotEmptyError);
  expect((await client.deleteObject('docs', 'b')).deleted).toBe(true);
  await expect(client.getObject({ bucket: 'docs', key: 'b' })).rejects.toBeInstanceOf(NoSuchKeyError);
});

test('storage nodes, placement, begin/commit with a stripe, multipart', async () => {
  for (let i = 0; i < 9; i++) {
    await client.registerNode({ nodeId: `sn-${i}`, az: `az-${i % 3}`, address: `127.0.0.1:${9000 + i}`, capacityBytes: 1e12, freeBytes: 1e12 });
  }
  await client.createBucket({ bucket: 'media', owner: 'alice' });
  const begun = await client.beginWrite({ bucket: 'media', key: 'movie.mp4', dataShardCount: 6, parityShardCount: 3, blockSizeBytes: 1 << 20 });
  expect(new Set(begun.stripe?.shardNodeIds).size).toBe(9);
  const committed = await client.commitVersion({
    writeId: begun.writeId, versionId: begun.versionId, bucket: 'media', key: 'movie.mp4', sizeBytes: 123, etag: md5, stripe: begun.stripe,
  });
  expect(committed.versionId).toBe(''); // a bucket that never had versioning reports no version id
  expect((await client.getObject({ bucket: 'media', key: 'movie.mp4' })).stripe?.shardNodeIds).toEqual(begun.stripe?.shardNodeIds);

  const upload = await client.createMultipartUpload({ bucket: 'media', key: 'big.bin' });
  for (const partNumber of [1, 2]) {
    const stripe = await client.placeStripe({ stripeKey: `${upload.uploadId}/${partNumber}`, dataShardCount: 6, parityShardCount: 3, blockSizeBytes: 1 << 20 });
    await client.registerPart({ bucket: 'media', key: 'big.bin', uploadId: upload.uploadId, partNumber, sizeBytes: 10, etag: md5, stripe });
  }
  const parts = await client.listParts({ bucket: 'media', key: 'big.bin', uploadId: upload.uploadId });
  expect(parts.parts.map((p) => p.partNumber)).toEqual([1, 2]);
  expect((await client.listMultipartUploads({ bucket: 'media' })).uploads.map((u) => u.uploadId)).toEqual([upload.uploadId]);
  const done = await client.completeMultipartUpload({ bucket: 'media', key: 'big.bin', uploadId: upload.uploadId, parts: [{ partNumber: 1, etag: md5 }, { partNumber: 2, etag: md5 }] });
  expect(done.etag).toMatch(/-2$/);
  expect(done.multipart?.parts).toHaveLength(2);
  await expect(client.abortMultipartUpload({ bucket: 'media', key: 'big.bin', uploadId: upload.uploadId })).rejects.toBeInstanceOf(NoSuchUploadError);
});

test('a write begun but never committed is aborted by the leader and its stripe queued for GC', async () => {
  const begun = await client.beginWrite({ bucket: 'media', key: 'abandoned', dataShardCount: 2, parityShardCount: 1, blockSizeBytes: 1024 });
  await waitFor('stale write aborted', async () => {
    const items = await client.listQueue(1000);
    return items.some((item) => item.stripe?.stripeId === begun.writeId && item.kind === 'gcStripe') ? true : undefined;
  }, 10_000);
  await expect(client.commitVersion({ writeId: begun.writeId, bucket: 'media', key: 'abandoned', sizeBytes: 1, etag: md5, stripe: begun.stripe }))
    .rejects.toBeInstanceOf(NoSuchWriteError);
});

test('storage node liveness: a silent node goes suspect then down; a heartbeat revives it', async () => {
  await client.registerNode({ nodeId: 'sn-quiet', az: 'az-0', address: '127.0.0.1:1', capacityBytes: 10, freeBytes: 10 });
  const stateOf = async (): Promise<string | undefined> => (await client.listNodes()).find((n) => n.nodeId === 'sn-quiet')?.state;
  await waitFor('suspect', async () => ((await stateOf()) === 'suspect' ? true : undefined), 8_000);
  await waitFor('down', async () => ((await stateOf()) === 'down' ? true : undefined), 8_000);
  await client.heartbeat({ nodeId: 'sn-quiet', capacityBytes: 10, freeBytes: 5 });
  expect(await stateOf()).toBe('up');
});

test('heartbeats that change nothing are not committed, yet keep the node up past the suspect timeout', async () => {
  await client.registerNode({ nodeId: 'sn-steady', az: 'az-0', address: '127.0.0.1:1', capacityBytes: 1000, freeBytes: 500 });
  const leader = nodes.get(await waitForLeader(client, [...peers.values()]));
  if (leader === undefined) throw new Error('no leader node');
  const appliedBefore = leader.host.machine.appliedIndex;
  const startedMs = Date.now();
  // suspectAfterMs is 1 s in these tests: 2.5 s of heartbeats every 200 ms.
  while (Date.now() - startedMs < 2_500) {
    const answered = await client.heartbeat({ nodeId: 'sn-steady', capacityBytes: 1000, freeBytes: 500 });
    expect(answered.state).toBe('up');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const steady = (await client.listNodes()).find((n) => n.nodeId === 'sn-steady');
  expect(steady?.state).toBe('up');
  expect(Date.now() - Number(steady?.lastHeartbeatAtMs)).toBeLessThan(1_000);
  // Other tests may commit meanwhile, but not one entry per heartbeat (about 12 here).
  expect(leader.host.machine.appliedIndex - appliedBefore).toBeLessThan(6);
  // Free space that moved by 1% of the capacity is committed and visible on every node.
  await client.heartbeat({ nodeId: 'sn-steady', capacityBytes: 1000, freeBytes: 400 });
  for (const node of nodes.values()) {
    await waitFor('free space replicated', async () => ((await node.host.machine.getNode('sn-steady')).freeBytes === 400 ? true : undefined), 5_000);
  }
});

test('conditional commits over gRPC: If-None-Match and If-Match decided at apply, typed errors back', async () => {
  await client.createBucket({ bucket: 'cond', owner: 'alice' });
  const put = (condition?: { ifNoneMatchAny?: boolean; ifMatchEtag?: string }, etag = md5) =>
    client.commitVersion({ bucket: 'cond', key: 'k', sizeBytes: 1, etag, inlineData: Buffer.from('x'), ...(condition === undefined ? {} : { condition }) });
  await put({ ifNoneMatchAny: true });
  await expect(put({ ifNoneMatchAny: true })).rejects.toBeInstanceOf(PreconditionFailedError);
  await put({ ifMatchEtag: md5 }, 'fedcba9876543210fedcba9876543210');
  await expect(put({ ifMatchEtag: md5 })).rejects.toBeInstanceOf(PreconditionFailedError);
  await expect(client.commitVersion({ bucket: 'cond', key: 'absent', sizeBytes: 1, etag: md5, inlineData: Buffer.from('x'), condition: { ifMatchEtag: md5 } }))
    .rejects.toBeInstanceOf(NoSuchKeyError);
  // An empty condition (the proto default) is unconditional.
  await put({});
  expect((await client.getObject({ bucket: 'cond', key: 'k' })).etag).toBe(md5);
});

test('RemoveNode over gRPC: refused with shards, heartbeats of a removed node refused, forced removal forgotten once nothing is placed there', async () => {
  // An empty node: forgotten at once; it cannot heartbeat or register itself back in.
  await client.registerNode({ nodeId: 'sn-gone', az: 'az-0', address: '127.0.0.1:2', capacityBytes: 10, freeBytes: 10 });
  expect(await client.removeNode({ nodeId: 'sn-gone' })).toEqual({ nodeId: 'sn-gone', shardCount: 0, forgotten: true });
  expect((await client.listNodes()).map((n) => n.nodeId)).not.toContain('sn-gone');
  const refusedBeat = client.heartbeat({ nodeId: 'sn-gone', capacityBytes: 10, freeBytes: 10 });
  await expect(refusedBeat).rejects.toBeInstanceOf(StorageNodeRemovedError);
  await expect(refusedBeat).rejects.toThrow(/storage node sn-gone was removed from the cluster .*tessera node add sn-gone/);
  await expect(client.registerNode({ nodeId: 'sn-gone', az: 'az-0', address: '127.0.0.1:2' })).rejects.toBeInstanceOf(StorageNodeRemovedError);
  await client.registerNode({ nodeId: 'sn-gone', az: 'az-0', address: '127.0.0.1:2', readmit: true });
  await client.heartbeat({ nodeId: 'sn-gone', capacityBytes: 10, freeBytes: 10 });

  // Two objects striped over sn-r1..3 (commits name their stripe directly, so placement and
  // node liveness play no part): sn-r1 holds two shards.
  for (const nodeId of ['sn-r1', 'sn-r2', 'sn-r3']) await client.registerNode({ nodeId, az: 'az-0', address: '127.0.0.1:3', capacityBytes: 10, freeBytes: 10 });
  await client.createBucket({ bucket: 'removal', owner: 'alice' });
  for (const key of ['x', 'y']) {
    const stripe = { stripeId: `rm-${key}`, dataShardCount: 2, parityShardCount: 1, blockSizeBytes: 1024, shardNodeIds: ['sn-r1', 'sn-r2', 'sn-r3'], degradedSpread: false };
    await client.commitVersion({ bucket: 'removal', key, sizeBytes: 10, etag: md5, stripe });
  }
  const notEmpty = client.removeNode({ nodeId: 'sn-r1' });
  await expect(notEmpty).rejects.toBeInstanceOf(StorageNodeNotEmptyError);
  await expect(notEmpty).rejects.toThrow('node sn-r1 still holds 2 shards; drain it first (tessera node drain sn-r1) and wait for the healer');
  expect(await client.removeNode({ nodeId: 'sn-r1', force: true })).toEqual({ nodeId: 'sn-r1', shardCount: 2, forgotten: false });
  expect((await client.listNodes()).find((n) => n.nodeId === 'sn-r1')?.state).toBe('down');
  expect((await client.listRemovedNodes()).map((r) => [r.nodeId, r.forced])).toEqual([['sn-r1', true]]);
  // Nothing is placed on sn-r1 any more once both objects are gone: the leader forgets the record.
  await client.deleteObject('removal', 'x');
  await client.deleteObject('removal', 'y');
  await waitFor('sn-r1 forgotten', async () => ((await client.listNodes()).some((n) => n.nodeId === 'sn-r1') ? undefined : true), 10_000);
  await expect(client.heartbeat({ nodeId: 'sn-r1', capacityBytes: 10, freeBytes: 10 })).rejects.toBeInstanceOf(StorageNodeRemovedError);
});

test('GetCatalogueStats counts per bucket and in total', async () => {
  await client.createBucket({ bucket: 'counted', owner: 'alice' });
  for (const [key, size] of [['a', 3], ['b', 5], ['a', 7]] as const) {
    await client.commitVersion({ bucket: 'counted', key, sizeBytes: size, etag: md5, inlineData: Buffer.alloc(size) });
  }
  await client.createMultipartUpload({ bucket: 'counted', key: 'open' });
  const stats = await client.getCatalogueStats();
  expect(stats.buckets.find((b) => b.bucket === 'counted')).toEqual({ bucket: 'counted', objectCount: 2, objectBytes: 12, multipartUploadCount: 1, noncurrentVersionCount: 0, noncurrentVersionBytes: 0, deleteMarkerCount: 0 });
  expect(stats.objectCount).toBe(stats.buckets.reduce((sum, b) => sum + b.objectCount, 0));
  expect(stats.bucketCount).toBe((await client.listBuckets()).length);
});

test('the client skips an unreachable address (UNAVAILABLE) and retries elsewhere', async () => {
  const [deadPort] = await reservePorts(1);
  const withDead = new MetadataClient({ addresses: [`127.0.0.1:${deadPort ?? 1}`, ...peers.values()], backoffMsBase: 10 });
  expect((await withDead.headBucket('docs')).name).toBe('docs');
  expect(withDead.currentAddress).not.toBe(`127.0.0.1:${deadPort ?? 1}`);
  withDead.close();
});

test('the same request id sent twice over gRPC applies once (idempotent retries)', async () => {
  const leader = await waitForLeader(client, [...peers.values()]);
  const proto = loadProto('metadata.proto') as unknown as MetadataProto;
  const raw = new proto.tessera.metadata.v1.Metadata(peers.get(leader) ?? '', grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('tessera-request-id', 'retry-me-1');
  const call = (): Promise<unknown> => new Promise((resolve, reject) => {
    raw.createBucket({ bucket: 'idempotent', owner: 'alice' }, metadata, (err, res) => (err ? reject(err) : resolve(res)));
  });
  const first = await call();
  const second = await call(); // without dedup: BucketAlreadyExists
  expect(second).toEqual(first);
  raw.close();
});

test('a direct write to a follower is refused with a leader hint', async () => {
  const leader = await waitForLeader(client, [...peers.values()]);
  const followerAddress = [...peers.entries()].find(([id]) => id !== leader)?.[1] ?? '';
  const direct = new MetadataClient({ addresses: [followerAddress], attemptCountMax: 1 });
  const refusal: unknown = await direct.createBucket({ bucket: 'hinted', owner: 'x' }).catch((err: unknown) => err);
  expect(refusal).toBeInstanceOf(NotLeaderError);
  expect((refusal as NotLeaderError).leaderHint).toBe(peers.get(leader));
  direct.close();
});

test('a node whose data dir is wiped catches up by snapshot', async () => {
  const leader = await waitForLeader(client, [...peers.values()]);
  const victim = [...peers.keys()].find((id) => id !== leader) ?? '';
  await nodes.get(victim)?.stop();
  // The SSE-S3 master key must travel with the snapshot: a node that lost it would, once
  // leader, create another and every encrypted object would stop opening.
  const masterKey = await client.getEncryptionMasterKey();
  await client.createBucket({ bucket: 'many', owner: 'alice' });
  for (let i = 0; i < 120; i++) await client.commitVersion({ bucket: 'many', key: `k${i}`, sizeBytes: 1, etag: md5, inlineData: Buffer.from('x') });
  await rm(join(root, victim), { recursive: true, force: true });
  const debugLogger = process.env['TESSERA_TEST_LOG'] === '1'
    ? createJsonLogger({ levelMin: 'debug', write: (line) => process.stderr.write(`${line}\n`), nowMs: () => Date.now() })
    : silentLogger;
  nodes.set(victim, await startInProcessNode(testNodeOptions(victim, peers, join(root, victim), { snapshotEveryEntryCount: 50 }), 99, debugLogger));
  const restarted = nodes.get(victim);
  await waitFor('snapshot install', () => (restarted !== undefined && restarted.host.machine.appliedIndex >= 120 ? true : undefined), 15_000);
  const direct = new MetadataClient({ addresses: [peers.get(victim) ?? ''] });
  const page = await direct.listObjects({ bucket: 'many', maxKeys: 1000 });
  expect(page.objects).toHaveLength(120);
  // The bucket counters came with the snapshot (served from this node's own state).
  expect((await direct.getCatalogueStats()).buckets.find((b) => b.bucket === 'many')).toEqual({ bucket: 'many', objectCount: 120, objectBytes: 120, multipartUploadCount: 0, noncurrentVersionCount: 0, noncurrentVersionBytes: 0, deleteMarkerCount: 0 });
  const installedKey = await restarted?.host.machine.getEncryptionMasterKey();
  expect(installedKey).toEqual({ keyId: masterKey.keyId, keyBase64: Buffer.from(masterKey.key).toString('base64'), createdAtMs: masterKey.createdAtMs });
  direct.close();
}, 30_000);

test('graceful shutdown of the leader hands leadership over without an election timeout', async () => {
  const leader = await waitForLeader(client, [...peers.values()]);
  const began = Date.now();
  await nodes.get(leader)?.shutdownGracefully();
  const survivors = [...peers.entries()].filter(([id]) => id !== leader).map(([, address]) => address);
  const next = await waitForLeader(client, survivors);
  expect(next).not.toBe(leader);
  // Transfer (TimeoutNow) needs no election timeout: well under the 200-400 ms timeout + stop.
  expect(Date.now() - began).toBeLessThan(2_000);
  const bucket = await client.createBucket({ bucket: 'after-transfer', owner: 'alice' });
  expect(bucket.name).toBe('after-transfer');
});
