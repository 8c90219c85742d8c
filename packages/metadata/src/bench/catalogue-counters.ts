/**
 * What the catalogue counters and node removal cost: the one-time recount when a catalogue
 * written before the counters is opened (scan of the object table), a GetCatalogueStats read,
 * the bounded node → shard index count (10,000 at most) a refused `removeNode` does inside
 * apply, and the exact count the RemoveNode handler does before proposing. Catalogues are
 * built through the bulk path (applyBatch), not Raft; objects are striped over 9 nodes, so
 * every node holds one shard per object.
 *
 *   node packages/metadata/dist/bench/catalogue-counters.js [--sizes 10000,100000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalogueDb } from '../catalogue-db';
import { CatalogueStateMachine } from '../catalogue-state-machine';
import type { Command } from '../commands';
import * as keys from '../keys';

const nodeIds = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

async function build(machine: CatalogueStateMachine, objectCount: number): Promise<void> {
  await machine.applyBatch([
    { type: 'createBucket', bucket: 'bench', owner: 'bench', createdAtMs: 1 },
    ...nodeIds.map((nodeId): Command => ({ type: 'registerNode', nodeId, az: 'az', address: 'x:1', capacityBytes: 1, freeBytes: 1, registeredAtMs: 1 })),
  ]);
  const chunk = 20_000;
  for (let from = 0; from < objectCount; from += chunk) {
    const commands: Command[] = [];
    for (let n = from; n < Math.min(objectCount, from + chunk); n++) {
      commands.push({
        type: 'commitVersion', writeId: undefined, bucket: 'bench', key: `k-${String(n).padStart(8, '0')}`, versionId: `v${n}`, sizeBytes: 1024 + n,
        etag: '0123456789abcdef0123456789abcdef', checksums: {}, contentType: 'application/octet-stream', systemMetadata: {},
        userMetadata: {}, storageClass: 'STANDARD', createdAtMs: 1,
        stripe: { stripeId: `s${n}`, dataShardCount: 6, parityShardCount: 3, blockSizeBytes: 1 << 20, shardNodeIds: nodeIds, degradedSpread: false },
        inlineData: undefined,
      });
    }
    await machine.applyBatch(commands, 20_000);
  }
}

async function timedMs<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const began = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - began };
}

async function main(): Promise<void> {
  const sizes = arg('sizes', '10000,100000').split(',').map(Number);
  const rows: string[] = [];
  for (const objectCount of sizes) {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-counters-'));
    const db = await openCatalogueDb(join(dir, 'state'));
    try {
      const machine = await CatalogueStateMachine.open(db);
      await build(machine, objectCount);
      // Pretend the catalogue predates the counters: drop them and their version key.
      await db.batch([{ type: 'del', key: keys.bucketStatsKey('bench') }, { type: 'del', key: keys.bucketStatsVersionKey }]);
      const recount = await timedMs(() => CatalogueStateMachine.open(db));
      const stats = await timedMs(() => recount.value.catalogueStats());
      if (stats.value.objectCount !== objectCount) throw new Error(`recount found ${stats.value.objectCount} objects, expected ${objectCount}`);
      const refusal = await timedMs(() => recount.value.apply(recount.value.appliedIndex + 1, { type: 'removeNode', nodeId: 'a', force: false, reason: 'bench', removedAtMs: 1 }));
      if (refusal.value.ok) throw new Error('removeNode of a node with shards must be refused');
      const exact = await timedMs(() => recount.value.countNodeShards('a'));
      if (exact.value !== objectCount) throw new Error(`counted ${exact.value} shards on node a, expected ${objectCount}`);
      rows.push(`| ${objectCount.toLocaleString('en-US')} | ${recount.ms.toFixed(0)} | ${stats.ms.toFixed(2)} | ${refusal.ms.toFixed(0)} | ${exact.ms.toFixed(0)} |`);
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write('| objects (shards per node) | recount at open ms | GetCatalogueStats read ms | removeNode refusal in apply ms | exact shard count (RemoveNode handler) ms |\n|---|---|---|---|---|\n');
  process.stdout.write(`${rows.join('\n')}\n`);
}

void main();
