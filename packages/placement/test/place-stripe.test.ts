// Goal: the placement policy holds for any membership, not just hand-picked ones. Method:
// fast-check generates clusters (AZ count, nodes per AZ, states, free space) and stripe shapes,
// and each property checks one promise of the README against the output of placeStripe.
import fc from 'fast-check';
import { InsufficientNodesError, placeStripe, proposeRepairMoves } from '@tessera/placement';
import type { NodeState, PlacementNode } from '@tessera/placement';

function grid(azCount: number, nodesPerAz: number, state: (az: number, n: number) => NodeState = () => 'up'): PlacementNode[] {
  const nodes: PlacementNode[] = [];
  for (let az = 0; az < azCount; az++) {
    for (let n = 0; n < nodesPerAz; n++) {
      nodes.push({ nodeId: `sn-${az}-${n}`, az: `az-${az}`, state: state(az, n), freeBytes: 1e12 });
    }
  }
  return nodes;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

const clusterArb = fc
  .record({
    azCount: fc.integer({ min: 1, max: 4 }),
    nodesPerAz: fc.integer({ min: 1, max: 6 }),
    seedStates: fc.array(fc.constantFrom<NodeState>('up', 'up', 'up', 'suspect', 'down', 'draining'), { minLength: 24, maxLength: 24 }),
    freeBytes: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 24, maxLength: 24 }),
    dataShardCount: fc.integer({ min: 1, max: 8 }),
    parityShardCount: fc.integer({ min: 0, max: 4 }),
    stripeKey: fc.string({ maxLength: 20 }),
  })
  .map((c) => {
    const nodes: PlacementNode[] = [];
    for (let az = 0; az < c.azCount; az++) {
      for (let n = 0; n < c.nodesPerAz; n++) {
        const i = az * c.nodesPerAz + n;
        nodes.push({ nodeId: `sn-${az}-${n}`, az: `az-${az}`, state: c.seedStates[i] ?? 'up', freeBytes: c.freeBytes[i] ?? 1 });
      }
    }
    return { ...c, nodes };
  });

describe('placeStripe', () => {
  test('6+3 over 3 AZs x 3 nodes: three shards per AZ, one per node, not degraded', () => {
    for (let i = 0; i < 200; i++) {
      const nodes = grid(3, 3);
      const placement = placeStripe({ stripeKey: `bucket/key-${i}/v1`, dataShardCount: 6, parityShardCount: 3, nodes });
      expect(new Set(placement.nodeIds).size).toBe(9);
      const perAz = countBy(placement.nodeIds, (id) => id.split('-')[1] ?? '');
      expect([...perAz.values()]).toEqual([3, 3, 3]);
      // Data shards 0..5 are spread too: two per AZ.
      const dataPerAz = countBy(placement.nodeIds.slice(0, 6), (id) => id.split('-')[1] ?? '');
      expect([...dataPerAz.values()]).toEqual([2, 2, 2]);
      expect(placement.degradedSpread).toBe(false);
    }
  });

  test('one AZ down: all 9 shards on the 6 live nodes, at most two each, flagged degraded', () => {
    const nodes = grid(3, 3, (az) => (az === 2 ? 'down' : 'up'));
    const placement = placeStripe({ stripeKey: 'b/k/v', dataShardCount: 6, parityShardCount: 3, nodes });
    expect(placement.nodeIds).toHaveLength(9);
    expect(placement.nodeIds.every((id) => !id.startsWith('sn-2-'))).toBe(true);
    const perNode = countBy(placement.nodeIds, (id) => id);
    expect(perNode.size).toBe(6);
    expect(Math.max(...perNode.values())).toBe(2);
    expect(placement.degradedSpread).toBe(true);
  });

  test('one node down in an AZ of three: the surplus shard goes to another AZ, one per node', () => {
    const nodes = grid(3, 4, (az, n) => (az === 0 && n > 1 ? 'down' : 'up'));
    const placement = placeStripe({ stripeKey: 'b/k/v', dataShardCount: 6, parityShardCount: 3, nodes });
    expect(new Set(placement.nodeIds).size).toBe(9);
    expect(placement.degradedSpread).toBe(true);
  });

  test('refuses when one node would hold more than parityShardCount shards', () => {
    const nodes = grid(1, 2);
    expect(() => placeStripe({ stripeKey: 'x', dataShardCount: 6, parityShardCount: 3, nodes })).toThrow(InsufficientNodesError);
    expect(() => placeStripe({ stripeKey: 'x', dataShardCount: 2, parityShardCount: 1, nodes: grid(1, 0) })).toThrow(InsufficientNodesError);
  });

  test('properties: only up nodes, every index placed, even per node, even per AZ when possible, deterministic', () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const shardCount = c.dataShardCount + c.parityShardCount;
        const live = c.nodes.filter((n) => n.state === 'up');
        const input = { stripeKey: c.stripeKey, dataShardCount: c.dataShardCount, parityShardCount: c.parityShardCount, nodes: c.nodes };
        const maxPerNode = live.length === 0 ? Infinity : Math.ceil(shardCount / live.length);
        if (live.length === 0 || (maxPerNode > 1 && maxPerNode > c.parityShardCount)) {
          expect(() => placeStripe(input)).toThrow(InsufficientNodesError);
          return;
        }
        const placement = placeStripe(input);
        expect(placement.nodeIds).toHaveLength(shardCount);
        const liveIds = new Set(live.map((n) => n.nodeId));
        expect(placement.nodeIds.every((id) => liveIds.has(id))).toBe(true);
        const perNode = countBy(placement.nodeIds, (id) => id);
        expect(Math.max(...perNode.values())).toBeLessThanOrEqual(maxPerNode);
        // Doubling up happens only when every live node already holds a shard.
        if (Math.max(...perNode.values()) > 1) expect(perNode.size).toBe(live.length);
        // Deterministic: same input (even reordered nodes) gives the same answer.
        expect(placeStripe({ ...input, nodes: [...c.nodes].reverse() })).toEqual(placement);
        // Even spread whenever every AZ has enough live nodes for its share.
        const azs = [...new Set(c.nodes.map((n) => n.az))];
        const liveByAz = countBy(live, (n) => n.az);
        const enough = azs.every((az) => (liveByAz.get(az) ?? 0) >= Math.ceil(shardCount / azs.length));
        if (enough) {
          expect(placement.degradedSpread).toBe(false);
          const perAz = countBy(placement.nodeIds, (id) => `az-${id.split('-')[1] ?? ''}`);
          const counts = azs.map((az) => perAz.get(az) ?? 0);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('weighted by free space: a node with 4x the free space is chosen about 4x as often', () => {
    const nodes: PlacementNode[] = [
      { nodeId: 'big', az: 'a', state: 'up', freeBytes: 4_000 },
      { nodeId: 'small', az: 'a', state: 'up', freeBytes: 1_000 },
    ];
    let big = 0;
    const trials = 4000;
    for (let i = 0; i < trials; i++) {
      const placement = placeStripe({ stripeKey: `k${i}`, dataShardCount: 1, parityShardCount: 0, nodes });
      if (placement.nodeIds[0] === 'big') big++;
    }
    expect(big / trials).toBeGreaterThan(0.75);
    expect(big / trials).toBeLessThan(0.85);
  });

  test('stable: adding a node to an AZ moves only the shards that land on the new node', () => {
    let moved = 0;
    let movedElsewhere = 0;
    for (let i = 0; i < 300; i++) {
      const before = placeStripe({ stripeKey: `s${i}`, dataShardCount: 1, parityShardCount: 0, nodes: grid(1, 5) });
      const after = placeStripe({
        stripeKey: `s${i}`, dataShardCount: 1, parityShardCount: 0,
        nodes: [...grid(1, 5), { nodeId: 'sn-new', az: 'az-0', state: 'up', freeBytes: 1e12 }],
      });
      if (before.nodeIds[0] !== after.nodeIds[0]) {
        moved++;
        if (after.nodeIds[0] !== 'sn-new') movedElsewhere++;
      }
    }
    expect(movedElsewhere).toBe(0);
    expect(moved).toBeGreaterThan(20); // about 1/6 of 300
  });
});

describe('proposeRepairMoves', () => {
  test('a lost node: its shard moves to a free node in the same AZ', () => {
    const nodes = grid(3, 4);
    const placement = placeStripe({ stripeKey: 'r', dataShardCount: 6, parityShardCount: 3, nodes });
    const victim = placement.nodeIds[4] ?? '';
    const after = nodes.map((n) => (n.nodeId === victim ? { ...n, state: 'down' as const } : n));
    const moves = proposeRepairMoves({ stripeKey: 'r', dataShardCount: 6, parityShardCount: 3, currentNodeIds: placement.nodeIds, nodes: after });
    expect(moves).toHaveLength(1);
    expect(moves[0]?.shardIndex).toBe(4);
    expect(moves[0]?.fromNodeId).toBe(victim);
    expect(moves[0]?.toNodeId.split('-')[1]).toBe(victim.split('-')[1]);
    expect(placement.nodeIds).not.toContain(moves[0]?.toNodeId);
  });

  test('a degraded stripe is respread once its AZ returns', () => {
    const down = grid(3, 3, (az) => (az === 1 ? 'down' : 'up'));
    const placement = placeStripe({ stripeKey: 'd', dataShardCount: 6, parityShardCount: 3, nodes: down });
    expect(placement.degradedSpread).toBe(true);
    const moves = proposeRepairMoves({ stripeKey: 'd', dataShardCount: 6, parityShardCount: 3, currentNodeIds: placement.nodeIds, nodes: grid(3, 3) });
    const final = [...placement.nodeIds];
    for (const move of moves) final[move.shardIndex] = move.toNodeId;
    expect(new Set(final).size).toBe(9);
    expect(moves.every((m) => m.reason === 'respread')).toBe(true);
  });

  test('property: after applying the moves no shard sits on a down/draining node, and no node holds more than before', () => {
    fc.assert(
      fc.property(clusterArb, fc.array(fc.constantFrom<NodeState>('up', 'down', 'draining', 'suspect'), { minLength: 24, maxLength: 24 }), (c, later) => {
        const allUp = c.nodes.map((n) => ({ ...n, state: 'up' as const }));
        const shardCount = c.dataShardCount + c.parityShardCount;
        if (Math.ceil(shardCount / allUp.length) > Math.max(1, c.parityShardCount)) return;
        const placement = placeStripe({ stripeKey: c.stripeKey, dataShardCount: c.dataShardCount, parityShardCount: c.parityShardCount, nodes: allUp });
        const nodes = allUp.map((n, i) => ({ ...n, state: later[i] ?? 'up' }));
        const moves = proposeRepairMoves({
          stripeKey: c.stripeKey, dataShardCount: c.dataShardCount, parityShardCount: c.parityShardCount,
          currentNodeIds: placement.nodeIds, nodes,
        });
        const final = [...placement.nodeIds];
        for (const move of moves) final[move.shardIndex] = move.toNodeId;
        const stateOf = new Map(nodes.map((n) => [n.nodeId, n.state]));
        const liveCount = nodes.filter((n) => n.state === 'up').length;
        if (liveCount > 0) {
          for (const nodeId of final) expect(['up', 'suspect']).toContain(stateOf.get(nodeId));
          const perNode = countBy(final, (id) => id);
          const upOrSuspect = nodes.filter((n) => n.state !== 'down' && n.state !== 'draining').length;
          expect(Math.max(...perNode.values())).toBeLessThanOrEqual(Math.max(1, Math.ceil(shardCount / Math.max(1, liveCount)), Math.ceil(shardCount / upOrSuspect)));
        }
        for (const move of moves) expect(stateOf.get(move.toNodeId)).toBe('up');
      }),
      { numRuns: 300 },
    );
  });
});
