/**
 * Goal: the healer keeps every stripe at k + m healthy shards against a real cluster. Method:
 * 3 metadata nodes + 9 storage nodes (3 AZs) in process, objects written like the gateway
 * does (4+2 stripes), then, in order: a node stopped past the grace period (rebuilt elsewhere,
 * AZ spread kept, objects decode identically from the new placement), the node returning with
 * stale shards (orphans collected), random bytes flipped in shard files (scrubber repairs),
 * a wiped node (refilled in place), a draining node (emptied), a queued repair, the CAS
 * refusal over gRPC, the admin HTTP endpoint, and the sweep that aborts multipart uploads older
 * than the stale-upload expiry. Healing rounds are driven by the test.
 */
import * as fs from 'node:fs/promises';
import { silentLogger } from '@tessera/common';
import { shardFilePath } from '@tessera/storage-node';
import type { Stripe__Output } from '@tessera/proto/generated/tessera/metadata/v1/Stripe';
import { createHash } from 'node:crypto';
import { PreconditionFailedError, dueAtMs, encodeStoredTags, legalHoldMetadataKey, lifecycleDayMs, tagsMetadataKey } from '@tessera/rpc';
import { RateLimiter, StripeRebuilder, abortStaleUploads, applyLifecycle, healerDefaults, startHealer } from '../src/index';
import type { StripeTask } from '../src/index';
import { StorageNodePool } from '../src/storage-node-pool';
import type { RunningHealer } from '../src/index';
import { randomBody, sha256, startHealerTestCluster, waitFor } from './support/healer-cluster';
import type { HealerTestCluster } from './support/healer-cluster';

jest.setTimeout(120_000);

const bucket = 'healing';
const objectSizes = [1, 1000, 64 * 1024, 64 * 1024 + 1, 200_000, 300_000, 777_777, 1_000_000];

describe('healer against a real cluster', () => {
  let cluster: HealerTestCluster;
  let running: RunningHealer;
  const expected = new Map<string, string>();

  beforeAll(async () => {
    cluster = await startHealerTestCluster();
    await cluster.metadata.createBucket({ bucket, owner: 'test' });
    for (const [i, size] of objectSizes.entries()) {
      const body = randomBody(size);
      await cluster.putObject(bucket, `obj-${i}`, body);
      expected.set(`obj-${i}`, sha256(body));
    }
    running = await startHealer({
      ...healerDefaults, metadataAddresses: cluster.metadataAddresses, workerId: 'healer-test', nodeLossGraceMs: 1_500,
      rebuildRateBytesPerSecond: 64 * 1024 * 1024, rebuildWindowBytes: 32 * 1024, orphanSafetyDelayMs: 1_000,
      scrubRateBytesPerSecond: 64 * 1024 * 1024, adminListen: '127.0.0.1:0', autoStart: false, repairRetryDelayMs: 300,
    }, { logger: silentLogger });
  });

  afterAll(async () => {
    await running?.stop();
    await cluster?.stop();
  });

  async function stripeOf(key: string): Promise<Stripe__Output> {
    const version = await cluster.metadata.getObject({ bucket, key, versionId: '' });
    if (version.stripe === null || version.stripe === undefined) throw new Error('not striped');
    return version.stripe;
  }

  /** Every object: shards on distinct up nodes, 2 per AZ, every shard verifies, bytes identical. */
  async function expectFullyHealthy(): Promise<void> {
    const nodes = await cluster.metadata.listNodes();
    const azOf = new Map(nodes.map((n) => [n.nodeId, n.az]));
    for (const key of expected.keys()) {
      const stripe = await stripeOf(key);
      expect(new Set(stripe.shardNodeIds).size).toBe(6);
      const perAz = new Map<string, number>();
      for (const nodeId of stripe.shardNodeIds) perAz.set(azOf.get(nodeId) ?? '?', (perAz.get(azOf.get(nodeId) ?? '?') ?? 0) + 1);
      expect([...perAz.values()]).toEqual([2, 2, 2]);
      for (const [shardIndex, nodeId] of stripe.shardNodeIds.entries()) {
        // Live: 'up', or 'suspect' when a heartbeat was late on a loaded machine (the shard itself
        // is verified on the node just below); never on a down or draining node.
        expect(['up', 'suspect']).toContain(nodes.find((n) => n.nodeId === nodeId)?.state);
        const verification = await cluster.client(nodeId).verifyShard({ objectVersionId: stripe.stripeId, shardIndex });
        expect(verification.ok).toBe(true);
      }
      expect(sha256(await cluster.readObject(bucket, key))).toBe(expected.get(key));
    }
  }

  async function shardsIndexedOn(nodeId: string): Promise<number> {
    return (await cluster.metadata.listNodeShards({ nodeId, afterStripeId: '', afterShardIndex: 0, limit: 10_000 })).shards.length;
  }

  test('a node down past the grace period: its stripes are rebuilt elsewhere, AZ spread kept', async () => {
    const lost = 'az-a-n1';
    const heldBefore = await shardsIndexedOn(lost);
    expect(heldBefore).toBeGreaterThan(0);
    await cluster.stopStorageNode(lost);
    await waitFor('node down', async () => ((await cluster.metadata.listNodes()).find((n) => n.nodeId === lost)?.state === 'down' ? true : undefined));
    // Within the grace period nothing moves.
    const early = await running.healer.healOnce();
    expect(early.lostNodeIds).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    const round = await running.healer.healOnce();
    expect(round.lostNodeIds).toEqual([lost]);
    expect(round.stripeCount).toBe(heldBefore);
    expect(round.outcomes.rebuilt).toBe(heldBefore);
    expect(await shardsIndexedOn(lost)).toBe(0);
    expect(await cluster.metadata.getHealBacklog()).toMatchObject({ stripeCount: 0, shardCount: 0 });
    await expectFullyHealthy();
  });

  test('the lost node returns with stale shards: they are collected as orphans', async () => {
    const returning = 'az-a-n1';
    await cluster.startStorageNode(returning);
    await waitFor('node up', async () => ((await cluster.metadata.listNodes()).find((n) => n.nodeId === returning)?.state === 'up' ? true : undefined));
    const stale = (await cluster.client(returning).listShards({ pageSize: 1000 })).shards.length;
    expect(stale).toBeGreaterThan(0);
    const { deletedShardCount } = await running.healer.collectOrphansOnce();
    expect(deletedShardCount).toBe(stale);
    expect((await cluster.client(returning).listShards({ pageSize: 1000 })).shards).toEqual([]);
    await expectFullyHealthy();
  });

  test('random bytes flipped in shard files: the scrubber finds and repairs each', async () => {
    const victims: { key: string; shardIndex: number }[] = [{ key: 'obj-4', shardIndex: 0 }, { key: 'obj-6', shardIndex: 5 }, { key: 'obj-7', shardIndex: 2 }];
    for (const victim of victims) {
      const stripe = await stripeOf(victim.key);
      const handle = cluster.handle(stripe.shardNodeIds[victim.shardIndex] ?? '');
      const file = shardFilePath(handle.dataDir, { objectVersionId: stripe.stripeId, shardIndex: victim.shardIndex });
      const bytes = await fs.readFile(file);
      const position = 256 + 8 + Math.floor(Math.random() * (bytes.length - 264));
      bytes[position] = (bytes[position] ?? 0) ^ 0x5a;
      await fs.writeFile(file, bytes);
    }
    const pass = await running.healer.scrubOnce();
    expect(pass.corruptShardCount).toBe(victims.length);
    expect(pass.verifiedShardCount).toBe(objectSizes.length * 6);
    const second = await running.healer.scrubOnce();
    expect(second.corruptShardCount).toBe(0);
    expect(running.healer.status().scrub.corruptShardsFound).toBe(victims.length);
    await expectFullyHealthy();
  });

  test('a node that stops answering mid-pass is skipped: the pass verifies every other node and completes', async () => {
    const silent = 'az-c-n1';
    const handle = cluster.handle(silent);
    // The gRPC server goes away while the heartbeat keeps the node "up" in the metadata, as for
    // a node that hangs or is cut off from the healer only.
    await handle.server?.stop();
    handle.server = undefined;
    const onSilent = await shardsIndexedOn(silent);
    expect(onSilent).toBeGreaterThan(0);
    const pass = await running.healer.scrubOnce();
    expect(pass.verifiedShardCount).toBe(objectSizes.length * 6 - onSilent);
    expect(pass.corruptShardCount).toBe(0);
    expect(running.healer.status().scrub.nodesSkippedLastPass).toEqual([silent]);
    await cluster.stopStorageNode(silent);
    await cluster.startStorageNode(silent);
    await waitFor('node answering again', async () => ((await cluster.metadata.listNodes()).find((n) => n.nodeId === silent)?.state === 'up' ? true : undefined));
    // The healer's connection to the restarted node comes back within its 2 s reconnect backoff.
    const next = await waitFor('a pass that reaches every node again', async () => {
      const result = await running.healer.scrubOnce();
      return running.healer.status().scrub.nodesSkippedLastPass.length === 0 ? result : undefined;
    });
    expect(next.verifiedShardCount).toBe(objectSizes.length * 6);
  });

  test('a wiped node (same id, empty disk) is refilled', async () => {
    const wiped = 'az-b-n2';
    const indexed = await shardsIndexedOn(wiped);
    await cluster.stopStorageNode(wiped);
    await fs.rm(cluster.handle(wiped).dataDir, { recursive: true, force: true });
    await cluster.startStorageNode(wiped);
    expect((await cluster.client(wiped).listShards({ pageSize: 1000 })).shards).toEqual([]);
    const pass = await running.healer.scrubOnce();
    expect(pass.corruptShardCount).toBe(indexed);
    expect((await cluster.client(wiped).listShards({ pageSize: 1000 })).shards.length).toBe(indexed);
    await expectFullyHealthy();
  });

  test('a draining node is emptied, keeping the AZ spread', async () => {
    const draining = 'az-c-n3';
    await cluster.metadata.setNodeState({ nodeId: draining, state: 'draining', reason: 'test' });
    const held = await shardsIndexedOn(draining);
    const round = await running.healer.healOnce();
    expect(round.outcomes.rebuilt).toBe(held);
    expect(await shardsIndexedOn(draining)).toBe(0);
    // Old copies are deleted right after the commit (the node is reachable).
    expect((await cluster.client(draining).listShards({ pageSize: 1000 })).shards).toEqual([]);
    await cluster.metadata.setNodeState({ nodeId: draining, state: 'up', reason: 'test done' });
    await expectFullyHealthy();
  });

  test('a queued repair (degraded read report) rebuilds the missing shard and acks the item', async () => {
    const stripe = await stripeOf('obj-5');
    await cluster.client(stripe.shardNodeIds[3] ?? '').deleteShard({ objectVersionId: stripe.stripeId, shardIndex: 3 });
    const first = await cluster.metadata.enqueueRepair({ stripe, reason: 'degraded read: shard 3' });
    const again = await cluster.metadata.enqueueRepair({ stripe, reason: 'degraded read: shard 3' });
    expect(again).toEqual({ itemId: first.itemId, deduplicated: true });
    const round = await running.healer.healOnce();
    expect(round.outcomes.rebuilt).toBe(1);
    expect((await cluster.metadata.listQueue(100)).filter((item) => item.kind === 'repairStripe')).toEqual([]);
    await expectFullyHealthy();
  });

  test('a queued repair whose shard is on a node that does not answer is held (not acked) and rebuilt once the node is back', async () => {
    // As after a write that failed on a frozen AZ: the missing shard is on the very node that
    // cannot be asked. Acking on the partial probe would drop the repair.
    const stripe = await stripeOf('obj-6');
    const shardIndex = 2;
    const silent = stripe.shardNodeIds[shardIndex] ?? '';
    await cluster.client(silent).deleteShard({ objectVersionId: stripe.stripeId, shardIndex });
    await cluster.stopStorageNode(silent);
    const queued = await cluster.metadata.enqueueRepair({ stripe, reason: `write failed: shard ${shardIndex}` });
    const held = await running.healer.healOnce();
    expect(held.outcomes.rebuilt).toBe(0);
    expect((await cluster.metadata.listQueue(100)).filter((item) => item.kind === 'repairStripe').map((item) => item.itemId)).toEqual([queued.itemId]);
    expect(running.healer.status().repairsAwaitingNodes).toBe(1);
    await cluster.startStorageNode(silent);
    await waitFor('node up', async () => ((await cluster.metadata.listNodes()).find((n) => n.nodeId === silent)?.state === 'up' ? true : undefined));
    // The held item is probed again each round without a new claim (its lease runs for minutes);
    // the first rounds may still find the node's channel reconnecting.
    const rebuiltRound = await waitFor('the held repair rebuilt', async () => {
      const round = await running.healer.healOnce();
      return round.outcomes.rebuilt > 0 ? round : undefined;
    });
    expect(rebuiltRound.outcomes.rebuilt).toBe(1);
    expect((await cluster.metadata.listQueue(100)).filter((item) => item.kind === 'repairStripe')).toEqual([]);
    expect(running.healer.status().repairsAwaitingNodes).toBe(0);
    expect((await cluster.client(silent).verifyShard({ objectVersionId: stripe.stripeId, shardIndex })).ok).toBe(true);
    await expectFullyHealthy();
  });

  test('a queued repair whose rebuild fails is held and tried again after the retry delay, not only once its lease runs out', async () => {
    // As when the node to rewrite a shard on was frozen: the rebuild fails now and can succeed
    // seconds later. Here three of the six shards are moved aside, leaving fewer than k = 4.
    const stripe = await stripeOf('obj-7');
    const files = [0, 1, 2].map((shardIndex) => shardFilePath(cluster.handle(stripe.shardNodeIds[shardIndex] ?? '').dataDir, { objectVersionId: stripe.stripeId, shardIndex }));
    for (const file of files) await fs.rename(file, `${file}.aside`);
    const queued = await cluster.metadata.enqueueRepair({ stripe, reason: 'test: too few shards readable for now' });
    const failed = await running.healer.healOnce();
    expect(failed.outcomes.unrecoverable).toBe(1);
    expect((await cluster.metadata.listQueue(100)).filter((item) => item.kind === 'repairStripe').map((item) => item.itemId)).toEqual([queued.itemId]);
    expect(running.healer.status().repairsAwaitingNodes).toBe(1);
    // Two come back: shard 0 can be rebuilt. The item's lease runs for minutes; the retry comes after 300 ms.
    for (const file of files.slice(1)) await fs.rename(`${file}.aside`, file);
    const retried = await waitFor('the held repair tried again', async () => {
      const round = await running.healer.healOnce();
      return round.outcomes.rebuilt > 0 ? round : undefined;
    }, 10_000);
    expect(retried.outcomes.rebuilt).toBe(1);
    expect((await cluster.metadata.listQueue(100)).filter((item) => item.kind === 'repairStripe')).toEqual([]);
    expect(running.healer.status().repairsAwaitingNodes).toBe(0);
    await fs.rm(`${files[0] ?? ''}.aside`);
    await expectFullyHealthy();
  });

  test('replaceShards over gRPC refuses a stale compare-and-set', async () => {
    const stripe = await stripeOf('obj-0');
    const from = stripe.shardNodeIds[0] ?? '';
    const wrongFrom = stripe.shardNodeIds[1] ?? '';
    const response = await cluster.metadata.replaceShards({
      owner: { kind: 'object', bucket, key: 'obj-0' }, stripeId: stripe.stripeId,
      changes: [{ shardIndex: 0, fromNodeId: wrongFrom, toNodeId: from }], degradedSpread: 'keep',
    });
    expect(response.replaced).toBe(false);
    expect((await stripeOf('obj-0')).shardNodeIds).toEqual(stripe.shardNodeIds);
  });

  test('a rebuild racing an overwrite: the CAS misses and the new copy is deleted', async () => {
    const key = 'obj-1';
    const stripe = await stripeOf(key);
    const location = await cluster.metadata.locateStripe(stripe);
    expect(location.found).toBe(true);
    const overwrite = randomBody(5_000);
    await cluster.putObject(bucket, key, overwrite);
    expected.set(key, sha256(overwrite));
    // The healer still believes the old stripe is current and its shard 0's node is gone.
    const nodes = (await cluster.metadata.listNodes()).map((n) => (n.nodeId === stripe.shardNodeIds[0] ? { ...n, state: 'down' } : n));
    const outcome = await running.healer.rebuildOne(
      { owner: location.owner!, stripe, dataSizeBytes: location.dataSizeBytes, lostShardIndexes: new Set(), reason: 'test race' }, nodes, new Set());
    expect(outcome.kind).toBe('stale');
    for (const handle of cluster.storageNodes) {
      if (handle.nodeId === stripe.shardNodeIds[0]) continue;
      await expect(cluster.client(handle.nodeId).statShard({ objectVersionId: stripe.stripeId, shardIndex: 0 })).rejects.toThrow();
    }
    await expectFullyHealthy();
  });

  test('an AZ outage: writes placed on the other AZs are respread when the AZ returns', async () => {
    const azC = cluster.storageNodes.filter((h) => h.zone === 'az-c').map((h) => h.nodeId);
    for (const nodeId of azC) await cluster.stopStorageNode(nodeId);
    await waitFor('az-c down', async () => ((await cluster.metadata.listNodes()).filter((n) => azC.includes(n.nodeId) && n.state === 'down').length === 3 ? true : undefined));
    const written: string[] = [];
    for (let i = 0; i < 3; i++) {
      const body = randomBody(150_000 + i);
      const stripe = await cluster.putObject(bucket, `outage-${i}`, body);
      expect(stripe.degradedSpread).toBe(true);
      expect(stripe.shardNodeIds.some((nodeId) => azC.includes(nodeId))).toBe(false);
      expected.set(`outage-${i}`, sha256(body));
      written.push(`outage-${i}`);
    }
    for (const nodeId of azC) await cluster.startStorageNode(nodeId);
    await waitFor('az-c up', async () => ((await cluster.metadata.listNodes()).filter((n) => azC.includes(n.nodeId) && n.state === 'up').length === 3 ? true : undefined));
    const pass = await running.healer.scrubOnce();
    expect(pass.respreadStripeCount).toBe(written.length);
    for (const key of written) expect((await stripeOf(key)).degradedSpread).toBe(false);
    await expectFullyHealthy();
  });

  test('multipart uploads older than the stale-upload expiry are aborted, younger ones kept, in every bucket', async () => {
    await cluster.metadata.createBucket({ bucket: 'uploads-sweep', owner: 'test' });
    const create = (sweepBucket: string, key: string) =>
      cluster.metadata.createMultipartUpload({ bucket: sweepBucket, key, contentType: 'binary/octet-stream', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', owner: 'test' });
    const old1 = await create(bucket, 'abandoned-1');
    const old2 = await create('uploads-sweep', 'abandoned-2');
    await new Promise((resolve) => setTimeout(resolve, 30));
    const young = await create('uploads-sweep', 'in-progress');
    const expiryMs = 7 * 24 * 3600_000;
    // "Now" is just short of the youngest upload's expiry, and past the two older ones'.
    const nowMs = young.initiatedAtMs + expiryMs - 1;
    expect(Math.max(old1.initiatedAtMs, old2.initiatedAtMs)).toBeLessThan(young.initiatedAtMs);
    expect(await abortStaleUploads(cluster.metadata, nowMs, expiryMs, new AbortController().signal)).toEqual({ abortedUploadCount: 2 });
    const remaining = async (sweepBucket: string) =>
      (await cluster.metadata.listMultipartUploads({ bucket: sweepBucket, prefix: '', keyMarker: '', uploadIdMarker: '', maxUploads: 1000 })).uploads.map((u) => u.key);
    expect(await remaining(bucket)).toEqual([]);
    expect(await remaining('uploads-sweep')).toEqual(['in-progress']);
    // A second sweep finds nothing more to abort; past its expiry, the young one goes too.
    expect(await abortStaleUploads(cluster.metadata, nowMs, expiryMs, new AbortController().signal)).toEqual({ abortedUploadCount: 0 });
    expect(await abortStaleUploads(cluster.metadata, nowMs + 1, expiryMs, new AbortController().signal)).toEqual({ abortedUploadCount: 1 });
    expect(await remaining('uploads-sweep')).toEqual([]);
  });

  /** A small object committed straight to the catalogue (inline data), as a gateway would. */
  const commitInline = (inBucket: string, key: string, text: string, systemMetadata: Record<string, string> = {}) => {
    const body = Buffer.from(text);
    return cluster.metadata.commitVersion({
      writeId: '', versionId: '', bucket: inBucket, key, sizeBytes: body.length, etag: createHash('md5').update(body).digest('hex'), checksums: {},
      contentType: '', systemMetadata, userMetadata: {}, storageClass: '', inlineData: body,
    });
  };

  test('lifecycle rules: current versions expire by prefix and tag when due, uploads are aborted, nothing early', async () => {
    const lcBucket = 'lifecycle-plain';
    await cluster.metadata.createBucket({ bucket: lcBucket, owner: 'test' });
    await cluster.metadata.setBucketLifecycle(lcBucket, [
      { id: 'logs', enabled: true, filterForm: 'prefix', prefix: 'logs/', tags: [], expirationDays: 1 },
      { id: 'tmp', enabled: true, filterForm: 'tag', prefix: '', tags: [{ key: 'tmp', value: 'yes' }], expirationDays: 3 },
      { id: 'off', enabled: false, filterForm: 'empty', prefix: '', tags: [], expirationDays: 1 },
      { id: 'uploads', enabled: true, filterForm: 'empty', prefix: '', tags: [], abortIncompleteUploadDays: 2 },
    ]);
    const put = (key: string, tags: readonly { key: string; value: string }[] = []) =>
      commitInline(lcBucket, key, key, tags.length === 0 ? {} : { [tagsMetadataKey]: encodeStoredTags(tags) });
    const logA = await put('logs/a');
    await put('logs/b');
    await put('keep/c');
    await put('keep/tmp-tagged', [{ key: 'tmp', value: 'yes' }]);
    await put('keep/other-tag', [{ key: 'tmp', value: 'no' }]);
    const upload = await cluster.metadata.createMultipartUpload({ bucket: lcBucket, key: 'big', contentType: '', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', owner: 'test' });
    const keys = async () => (await cluster.metadata.listObjects({ bucket: lcBucket, prefix: '', delimiter: '', startAfter: '', continuationToken: '', maxKeys: 1000 })).objects.map((o) => o.key);
    const sweep = (nowMs: number) => applyLifecycle(cluster.metadata, nowMs, lifecycleDayMs, new AbortController().signal);
    const logsDueMs = dueAtMs(logA.createdAtMs, 1, lifecycleDayMs);
    expect(await sweep(logsDueMs - 1)).toEqual({ expiredObjectCount: 0, expiredNoncurrentVersionCount: 0, removedDeleteMarkerCount: 0, abortedUploadCount: 0 });
    expect((await sweep(logsDueMs)).expiredObjectCount).toBe(2);
    expect(await keys()).toEqual(['keep/c', 'keep/other-tag', 'keep/tmp-tagged']);
    const uploadDueMs = dueAtMs(upload.initiatedAtMs, 2, lifecycleDayMs);
    expect(await sweep(uploadDueMs)).toEqual({ expiredObjectCount: 0, expiredNoncurrentVersionCount: 0, removedDeleteMarkerCount: 0, abortedUploadCount: 1 });
    expect((await sweep(uploadDueMs + 2 * lifecycleDayMs)).expiredObjectCount).toBe(1);
    expect(await keys()).toEqual(['keep/c', 'keep/other-tag']);
    // The expiry is for the version judged: one written since is not deleted.
    const fresh = await put('logs/new');
    await put('logs/new');
    await expect(cluster.metadata.deleteObject(lcBucket, 'logs/new', '', { createdAtMs: fresh.createdAtMs - 1, etag: fresh.etag })).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await keys()).toContain('logs/new');
    // Without rules the bucket is left alone, however late.
    await cluster.metadata.setBucketLifecycle(lcBucket, []);
    expect((await sweep(Date.now() + 100 * lifecycleDayMs)).expiredObjectCount).toBe(0);
    expect(await keys()).toContain('logs/new');
  });

  test('lifecycle rules in a versioned bucket: noncurrent versions expire keeping the newest, lone delete markers go, expiry adds a marker', async () => {
    const lcBucket = 'lifecycle-versioned';
    await cluster.metadata.createBucket({ bucket: lcBucket, owner: 'test' });
    await cluster.metadata.setBucketVersioning(lcBucket, 'Enabled');
    await cluster.metadata.setBucketLifecycle(lcBucket, [
      { id: 'keep-one', enabled: true, filterForm: 'prefix', prefix: 'doc', tags: [], noncurrentDays: 1, newerNoncurrentVersions: 1 },
      { id: 'gone', enabled: true, filterForm: 'prefix', prefix: 'gone', tags: [], noncurrentDays: 1 },
      { id: 'markers', enabled: true, filterForm: 'empty', prefix: '', tags: [], expiredObjectDeleteMarker: true },
      { id: 'expire', enabled: true, filterForm: 'prefix', prefix: 'exp', tags: [], expirationDays: 1 },
    ]);
    const put = (key: string, text: string) => commitInline(lcBucket, key, text);
    const [d1, d2, d3] = [await put('doc', '1'), await put('doc', '2'), await put('doc', '3')];
    await put('gone', 'g');
    await cluster.metadata.deleteObject(lcBucket, 'gone');
    await put('exp', 'e');
    const versions = async () => (await cluster.metadata.listObjectVersions({ bucket: lcBucket, prefix: '', delimiter: '', keyMarker: '', versionIdMarker: '', maxKeys: 1000 }))
      .versions.map((v) => `${v.key}:${v.deleteMarker ? 'marker' : v.versionId}`);
    const later = Date.now() + 10 * lifecycleDayMs;
    expect(await applyLifecycle(cluster.metadata, later, lifecycleDayMs, new AbortController().signal))
      .toEqual({ expiredObjectCount: 1, expiredNoncurrentVersionCount: 2, removedDeleteMarkerCount: 1, abortedUploadCount: 0 });
    const after = await versions();
    expect(after.filter((v) => v.startsWith('doc:'))).toEqual([`doc:${d3.versionId}`, `doc:${d2.versionId}`]);
    expect(after.some((v) => v.startsWith('gone:'))).toBe(false);
    expect(after.filter((v) => v.startsWith('exp:')).map((v) => v.endsWith(':marker'))).toEqual([true, false]);
    expect(d1.versionId).not.toBe(d2.versionId);
  });

  test('lifecycle rules never remove a version under Object Lock: the sweep skips it and goes on', async () => {
    const lcBucket = 'lifecycle-locked';
    await cluster.metadata.createBucket({ bucket: lcBucket, owner: 'test', objectLockEnabled: true });
    await cluster.metadata.setBucketLifecycle(lcBucket, [{ id: 'old', enabled: true, filterForm: 'empty', prefix: '', tags: [], noncurrentDays: 1 }]);
    const put = (key: string, text: string, systemMetadata: Record<string, string> = {}) => commitInline(lcBucket, key, text, systemMetadata);
    const held = await put('held', 'v1', { [legalHoldMetadataKey]: 'ON' });
    await put('held', 'v2');
    const free = await put('free', 'v1');
    await put('free', 'v2');
    const result = await applyLifecycle(cluster.metadata, Date.now() + 10 * lifecycleDayMs, lifecycleDayMs, new AbortController().signal);
    expect(result.expiredNoncurrentVersionCount).toBe(1);
    const versionIds = (await cluster.metadata.listObjectVersions({ bucket: lcBucket, prefix: '', delimiter: '', keyMarker: '', versionIdMarker: '', maxKeys: 1000 })).versions.map((v) => v.versionId);
    expect(versionIds).toContain(held.versionId);
    expect(versionIds).not.toContain(free.versionId);
  });

  test('admin endpoint: status JSON, metrics, runtime rate change', async () => {
    const base = `http://${running.adminAddress ?? ''}`;
    const posted = await fetch(`${base}/admin/heal`, { method: 'POST', body: JSON.stringify({ rateBytesPerSecond: 12345678 }) });
    expect(posted.status).toBe(200);
    const status = (await (await fetch(`${base}/admin/status`)).json()) as { rebuildRateLimitBytesPerSecond: number; totals: { stripesRebuilt: number } };
    expect(status.rebuildRateLimitBytesPerSecond).toBe(12345678);
    expect(status.totals.stripesRebuilt).toBeGreaterThan(0);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('healer_rebuild_rate_limit_bytes_per_second 12345678');
    expect(metrics).toContain('healer_scrub_oldest_unverified_age_seconds');
    expect((await fetch(`${base}/admin/heal`, { method: 'POST', body: '{"rateBytesPerSecond":-1}' })).status).toBe(400);
  });

  /** The task a heal round would make for a stripe whose node is lost. */
  async function taskFor(key: string): Promise<StripeTask> {
    const location = await cluster.metadata.locateStripe(await stripeOf(key));
    if (location.stripe === null || location.owner === null) throw new Error(`no location for ${key}`);
    return { owner: location.owner, stripe: location.stripe, dataSizeBytes: location.dataSizeBytes, lostShardIndexes: new Set(), reason: 'test' };
  }

  test('two rebuilds of one stripe at once never lose a shard: one runs (the other is busy), and a racing rebuild outside the healer keeps the committed copies', async () => {
    const key = 'obj-5';
    const lostNode = (await stripeOf(key)).shardNodeIds[0] ?? '';
    await cluster.stopStorageNode(lostNode);
    try {
      await waitFor('node down', async () => ((await cluster.metadata.listNodes()).find((n) => n.nodeId === lostNode)?.state === 'down' ? true : undefined));
      const nodes = await cluster.metadata.listNodes();
      // Through the healer: the second call finds the stripe busy and does nothing.
      const task = await taskFor(key);
      const outcomes = await Promise.all([running.healer.rebuildOne(task, nodes, new Set()), running.healer.rebuildOne(task, nodes, new Set())]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(['busy', 'rebuilt']);
      expect(sha256(await cluster.readObject(bucket, key))).toBe(expected.get(key));

      // Two rebuilders with no shared exclusion (two healers): both plan the same move from the
      // same placement and write the same file; one commits, the other's compare-and-set misses,
      // and its clean-up must not delete the copy the catalogue now maps.
      const raced = 'obj-6';
      const racedStripe = await stripeOf(raced);
      const holder = racedStripe.shardNodeIds.find((nodeId) => nodeId !== lostNode) ?? '';
      await cluster.metadata.setNodeState({ nodeId: holder, state: 'draining', reason: 'test' });
      const drainingNodes = await cluster.metadata.listNodes();
      const rebuilder = (): StripeRebuilder => new StripeRebuilder(32 * 1024, {
        metadata: cluster.metadata, pool: new StorageNodePool(5_000), limiter: new RateLimiter(64 * 1024 * 1024), logger: silentLogger, inFlight: new Set(),
      });
      const racedTask = await taskFor(raced);
      const raceOutcomes = await Promise.all([rebuilder().rebuild(racedTask, drainingNodes, new Set()), rebuilder().rebuild(racedTask, drainingNodes, new Set())]);
      expect(raceOutcomes.map((o) => o.kind).sort()).toEqual(['rebuilt', 'stale']);
      await cluster.metadata.setNodeState({ nodeId: holder, state: 'up', reason: 'test' });
      const after = await stripeOf(raced);
      for (const [shardIndex, nodeId] of after.shardNodeIds.entries()) {
        if (nodeId === lostNode) continue;
        expect((await cluster.client(nodeId).verifyShard({ objectVersionId: after.stripeId, shardIndex })).ok).toBe(true);
      }
      expect(sha256(await cluster.readObject(bucket, raced))).toBe(expected.get(raced));
    } finally {
      await cluster.startStorageNode(lostNode);
      await waitFor('node up', async () => ((await cluster.metadata.listNodes()).find((n) => n.nodeId === lostNode)?.state === 'up' ? true : undefined));
    }
  });

  test('a node force-removed by the operator (disk gone) is rebuilt at once, without the node-loss grace period', async () => {
    const patient = await startHealer({
      ...healerDefaults, metadataAddresses: cluster.metadataAddresses, workerId: 'healer-test-patient', nodeLossGraceMs: 600_000,
      rebuildRateBytesPerSecond: 64 * 1024 * 1024, rebuildWindowBytes: 32 * 1024, adminListen: '127.0.0.1:0', autoStart: false,
    }, { logger: silentLogger });
    try {
      const gone = 'az-b-n3';
      const held = await shardsIndexedOn(gone);
      expect(held).toBeGreaterThan(0);
      await cluster.stopStorageNode(gone);
      await waitFor('node down', async () => ((await cluster.metadata.listNodes()).find((n) => n.nodeId === gone)?.state === 'down' ? true : undefined));
      // Down but not removed: within the 10-minute grace nothing is rebuilt.
      await patient.healer.healOnce();
      expect(await shardsIndexedOn(gone)).toBe(held);
      const removal = await cluster.metadata.removeNode({ nodeId: gone, force: true, reason: 'disk lost (test)' });
      expect(removal.shardCount).toBe(held);
      await patient.healer.healOnce();
      expect(await shardsIndexedOn(gone)).toBe(0);
      for (const key of expected.keys()) expect(sha256(await cluster.readObject(bucket, key))).toBe(expected.get(key));
    } finally {
      await patient.stop();
    }
  });
});
