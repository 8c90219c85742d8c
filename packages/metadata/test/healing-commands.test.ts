/**
 * Goal: the catalogue's healing support is correct and deterministic. Method: apply commands to
 * a real LevelDB catalogue and check the node → shard index after commit, overwrite, delete,
 * multipart register/complete/abort and replaceShards; replaceShards' compare-and-set refusals;
 * enqueueRepair dedup; queue leases (claim, invisible until expiry, ack).
 */
import type { Command } from '../src/commands';
import type { NodeShardRecord, QueueItemRecord, StripeRecord } from '../src/model';
import type { ReplaceShardsResult } from '../src/catalogue-state-machine';
import { md5a, openTempCatalogue, putInline, registerNodes, stripe } from './helpers';
import type { TempCatalogue } from './helpers';

const nodes = ['sn-1', 'sn-2', 'sn-3', 'sn-4'];

function putStriped(key: string, s: StripeRecord, sizeBytes = 3000): Command {
  return { ...putInline('bkt', key), versionId: `v-${s.stripeId}`, sizeBytes, stripe: s, inlineData: undefined };
}

async function apply(cat: TempCatalogue, command: Command): Promise<unknown> {
  const [result] = await cat.machine.applyDirect([command]);
  if (result === undefined || !result.ok) throw result?.error ?? new Error('no result');
  return result.value;
}

async function shardsOn(cat: TempCatalogue, nodeId: string): Promise<string[]> {
  const entries: NodeShardRecord[] = await cat.machine.listNodeShards(nodeId, '', 0, 1000);
  return entries.map((e) => `${e.stripeId}.${e.shardIndex}`);
}

describe('catalogue healing support', () => {
  let cat: TempCatalogue;
  beforeEach(async () => {
    cat = await openTempCatalogue({ partSizeBytesMin: 5 });
    for (const command of [...registerNodes(nodes), { type: 'createBucket', bucket: 'bkt', owner: 'o', createdAtMs: 1 } as Command]) await apply(cat, command);
  });
  afterEach(async () => cat.close());

  test('node → shard index follows commit, overwrite and delete', async () => {
    await apply(cat, putStriped('k', stripe('s1', ['sn-1', 'sn-2', 'sn-3'])));
    expect(await shardsOn(cat, 'sn-1')).toEqual(['s1.0']);
    expect(await shardsOn(cat, 'sn-3')).toEqual(['s1.2']);
    await apply(cat, putStriped('k', stripe('s2', ['sn-2', 'sn-3', 'sn-4'])));
    expect(await shardsOn(cat, 'sn-1')).toEqual([]);
    expect(await shardsOn(cat, 'sn-2')).toEqual(['s2.0']);
    const located = await cat.machine.locateStripe(stripe('s2', ['sn-2', 'sn-3', 'sn-4']));
    expect(located?.owner).toEqual({ kind: 'object', bucket: 'bkt', key: 'k' });
    expect(located?.dataSizeBytes).toBe(3000);
    await apply(cat, { type: 'deleteObject', bucket: 'bkt', key: 'k', deletedAtMs: 3 });
    for (const node of nodes) expect(await shardsOn(cat, node)).toEqual([]);
  });

  test('multipart parts are indexed as upload parts, then as object parts, and removed on abort', async () => {
    await apply(cat, { type: 'createUpload', bucket: 'bkt', key: 'mp', uploadId: 'u1', initiatedAtMs: 1, contentType: '', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', owner: 'o' });
    const part = (n: number, s: StripeRecord): Command => ({
      type: 'registerPart', bucket: 'bkt', key: 'mp', uploadId: 'u1', partNumber: n, sizeBytes: 10, etag: md5a, checksums: {}, stripe: s, inlineData: undefined, createdAtMs: 2,
    });
    await apply(cat, part(1, stripe('p1', ['sn-1', 'sn-2', 'sn-3'])));
    await apply(cat, part(2, stripe('p2', ['sn-2', 'sn-3', 'sn-4'])));
    expect((await cat.machine.listNodeShards('sn-1', '', 0, 10))[0]?.owner).toEqual({ kind: 'uploadPart', uploadId: 'u1', partNumber: 1 });
    await apply(cat, { type: 'completeUpload', bucket: 'bkt', key: 'mp', uploadId: 'u1', versionId: 'v9', parts: [{ partNumber: 1, etag: md5a }], completedAtMs: 3 });
    expect((await cat.machine.listNodeShards('sn-1', '', 0, 10))[0]?.owner).toEqual({ kind: 'objectPart', bucket: 'bkt', key: 'mp', partNumber: 1 });
    expect(await shardsOn(cat, 'sn-4')).toEqual([]); // part 2 was not used
    await apply(cat, { type: 'createUpload', bucket: 'bkt', key: 'mp2', uploadId: 'u2', initiatedAtMs: 1, contentType: '', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', owner: 'o' });
    await apply(cat, { ...(part(1, stripe('p3', ['sn-4', 'sn-2', 'sn-3'])) as Extract<Command, { type: 'registerPart' }>), key: 'mp2', uploadId: 'u2' });
    expect(await shardsOn(cat, 'sn-4')).toEqual(['p3.0']);
    await apply(cat, { type: 'abortUpload', bucket: 'bkt', key: 'mp2', uploadId: 'u2', abortedAtMs: 4 });
    expect(await shardsOn(cat, 'sn-4')).toEqual([]);
  });

  test('replaceShards moves a shard (record + index) and refuses stale changes', async () => {
    await apply(cat, putStriped('k', stripe('s1', ['sn-1', 'sn-2', 'sn-3'])));
    const owner = { kind: 'object', bucket: 'bkt', key: 'k' } as const;
    const moved = (await apply(cat, { type: 'replaceShards', owner, stripeId: 's1', changes: [{ shardIndex: 0, fromNodeId: 'sn-1', toNodeId: 'sn-4' }], degradedSpread: undefined, replacedAtMs: 5 })) as ReplaceShardsResult;
    expect(moved.replaced).toBe(true);
    expect((await cat.machine.getObject('bkt', 'k')).layout).toMatchObject({ kind: 'stripe', stripe: { shardNodeIds: ['sn-4', 'sn-2', 'sn-3'] } });
    expect(await shardsOn(cat, 'sn-1')).toEqual([]);
    expect(await shardsOn(cat, 'sn-4')).toEqual(['s1.0']);
    // The same change again: shard 0 is no longer on sn-1.
    const stale = (await apply(cat, { type: 'replaceShards', owner, stripeId: 's1', changes: [{ shardIndex: 0, fromNodeId: 'sn-1', toNodeId: 'sn-2' }], degradedSpread: undefined, replacedAtMs: 6 })) as ReplaceShardsResult;
    expect(stale).toMatchObject({ replaced: false });
    // An overwrite makes the stripe unknown to its owner: refused, nothing changes.
    await apply(cat, putStriped('k', stripe('s2', ['sn-1', 'sn-2', 'sn-3'])));
    const gone = (await apply(cat, { type: 'replaceShards', owner, stripeId: 's1', changes: [{ shardIndex: 1, fromNodeId: 'sn-2', toNodeId: 'sn-1' }], degradedSpread: false, replacedAtMs: 7 })) as ReplaceShardsResult;
    expect(gone).toMatchObject({ replaced: false });
    expect(await shardsOn(cat, 'sn-4')).toEqual([]);
    // Static validation: no-op move, duplicated index.
    const [bad] = await cat.machine.applyDirect([{ type: 'replaceShards', owner, stripeId: 's2', changes: [{ shardIndex: 0, fromNodeId: 'sn-1', toNodeId: 'sn-1' }], degradedSpread: undefined, replacedAtMs: 8 }]);
    expect(bad?.ok).toBe(false);
  });

  test('enqueueRepair dedups per stripe until acked; claims lease items exclusively', async () => {
    const s = stripe('s1', ['sn-1', 'sn-2', 'sn-3']);
    const first = (await apply(cat, { type: 'enqueueRepair', stripe: s, reason: 'degraded read', enqueuedAtMs: 1 })) as { itemId: string; deduplicated: boolean };
    const second = (await apply(cat, { type: 'enqueueRepair', stripe: s, reason: 'again', enqueuedAtMs: 2 })) as { itemId: string; deduplicated: boolean };
    expect(second).toEqual({ itemId: first.itemId, deduplicated: true });
    const claimA = (await apply(cat, { type: 'claimQueueItems', kind: 'repairStripe', workerId: 'a', leaseMs: 1000, itemCountMax: 10, nowMs: 10_000 })) as QueueItemRecord[];
    expect(claimA.map((i) => i.itemId)).toEqual([first.itemId]);
    const claimB = (await apply(cat, { type: 'claimQueueItems', kind: 'repairStripe', workerId: 'b', leaseMs: 1000, itemCountMax: 10, nowMs: 10_500 })) as QueueItemRecord[];
    expect(claimB).toEqual([]);
    const claimC = (await apply(cat, { type: 'claimQueueItems', kind: 'repairStripe', workerId: 'b', leaseMs: 1000, itemCountMax: 10, nowMs: 11_000 })) as QueueItemRecord[];
    expect(claimC[0]).toMatchObject({ itemId: first.itemId, leaseOwner: 'b', leaseExpiresAtMs: 12_000 });
    await apply(cat, { type: 'ackQueueItem', itemId: first.itemId });
    const third = (await apply(cat, { type: 'enqueueRepair', stripe: s, reason: 'later', enqueuedAtMs: 3 })) as { itemId: string; deduplicated: boolean };
    expect(third.deduplicated).toBe(false);
  });
});
