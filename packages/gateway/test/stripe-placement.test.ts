/**
 * Goal: the gateway's own placement of a new stripe (stripe-placement.ts) keeps the cluster's
 * placement policy: with RS(6,3) over 3 AZs of 3 nodes every AZ holds 3 shards, one per node,
 * so one AZ can be lost; nodes the metadata leader does not call `up` (or in a state this
 * gateway does not know) get nothing; too few live nodes is a 503-class write failure, not a
 * stripe that one node's loss would kill. Method: plain calls on made-up node lists.
 */
import { validateShardId } from '@tessera/rpc';
import type { KnownStorageNode } from '../src/cluster/storage-node-pool';
import { placeNewStripe } from '../src/cluster/stripe-placement';
import { QuorumUnavailableError } from '../src/cluster/stripe';

const shape = { dataShardCount: 6, parityShardCount: 3, blockSizeBytes: 1 << 20 };

function nodes(states: Record<string, string> = {}): KnownStorageNode[] {
  return ['a', 'b', 'c'].flatMap((az) =>
    [1, 2, 3].map((n) => {
      const nodeId = `sn-${az}${n}`;
      return { nodeId, az: `az-${az}`, address: `127.0.0.1:${n}`, state: states[nodeId] ?? 'up', freeBytes: 1e12 };
    }),
  );
}

const azOf = (nodeId: string): string => `az-${nodeId.charAt(3)}`;

test('9 up nodes in 3 AZs: every node one shard, 3 per AZ, the spread not degraded', () => {
  for (let i = 0; i < 20; i += 1) {
    const { stripe, degradedSpread } = placeNewStripe(nodes(), 'bkt/key', shape);
    expect(new Set(stripe.shardNodeIds).size).toBe(9);
    const perAz = new Map<string, number>();
    for (const nodeId of stripe.shardNodeIds) perAz.set(azOf(nodeId), (perAz.get(azOf(nodeId)) ?? 0) + 1);
    expect([...perAz.values()]).toEqual([3, 3, 3]);
    expect(degradedSpread).toBe(false);
    expect(stripe).toMatchObject(shape);
  }
});

test('each stripe gets a fresh id usable as the shard files\' objectVersionId', () => {
  const ids = new Set(Array.from({ length: 100 }, () => placeNewStripe(nodes(), 'bkt/key', shape).stripe.stripeId));
  expect(ids.size).toBe(100);
  for (const id of ids) expect(validateShardId({ objectVersionId: id, shardIndex: 8 }).objectVersionId).toBe(id);
});

test('suspect, down, draining and unknown-state nodes get no shards; the spread is flagged degraded', () => {
  const { stripe, degradedSpread } = placeNewStripe(nodes({ 'sn-a1': 'suspect', 'sn-b2': 'down', 'sn-c3': 'draining', 'sn-c1': 'quarantined' }), 'bkt/key', shape);
  expect(stripe.shardNodeIds).toHaveLength(9);
  expect(stripe.shardNodeIds.filter((id) => ['sn-a1', 'sn-b2', 'sn-c3', 'sn-c1'].includes(id))).toEqual([]);
  // 5 live nodes for 9 shards: at most 2 per node (<= m = 3, so one node's loss is survivable).
  const perNode = new Map<string, number>();
  for (const nodeId of stripe.shardNodeIds) perNode.set(nodeId, (perNode.get(nodeId) ?? 0) + 1);
  expect(Math.max(...perNode.values())).toBe(2);
  expect(degradedSpread).toBe(true);
});

test('too few live nodes for a stripe that survives one node\'s loss: QuorumUnavailableError', () => {
  const sevenDown = Object.fromEntries(nodes().slice(2).map((node) => [node.nodeId, 'down']));
  expect(() => placeNewStripe(nodes(sevenDown), 'bkt/key', shape)).toThrow(QuorumUnavailableError);
  expect(() => placeNewStripe([], 'bkt/key', shape)).toThrow(QuorumUnavailableError);
});

describe('nodes this gateway saw fail moments ago', () => {
  test('get no shards while the others can hold the stripe: 9 shards on the 8 others, flagged for respread', () => {
    for (let i = 0; i < 20; i += 1) {
      const { stripe, degradedSpread } = placeNewStripe(nodes(), 'bkt/key', shape, new Set(['sn-b2']));
      expect(stripe.shardNodeIds).toHaveLength(9);
      expect(stripe.shardNodeIds).not.toContain('sn-b2');
      expect(new Set(stripe.shardNodeIds).size).toBe(8);
      // The short AZ keeps its 3 shards on its 2 other nodes, so an AZ loss still costs 3 = m.
      expect(stripe.shardNodeIds.filter((id) => azOf(id) === 'az-b')).toHaveLength(3);
      expect(degradedSpread).toBe(true);
    }
  });

  test('are used after all when the rest cannot hold a stripe that survives one node\'s loss', () => {
    const down = Object.fromEntries(['sn-a1', 'sn-a2', 'sn-a3', 'sn-b1', 'sn-b2'].map((id) => [id, 'down']));
    // 4 nodes up, 2 of them avoided: 9 shards on 2 nodes would not survive either one's loss.
    const { stripe } = placeNewStripe(nodes(down), 'bkt/key', shape, new Set(['sn-c1', 'sn-c2']));
    expect(new Set(stripe.shardNodeIds)).toEqual(new Set(['sn-b3', 'sn-c1', 'sn-c2', 'sn-c3']));
  });

  test('an avoided node the leader already calls down changes nothing', () => {
    const placed = placeNewStripe(nodes({ 'sn-a1': 'down' }), 'bkt/key', shape, new Set(['sn-a1']));
    expect(placed.stripe.shardNodeIds).not.toContain('sn-a1');
  });
});
