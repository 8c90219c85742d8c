/**
 * ListObjectsV2 page latency at 10k and 1M keys. The catalogues are built directly through the
 * state machine's bulk path (applyBatch), not through Raft, to keep setup time reasonable.
 * Keys look like `dir-<d>/file-<n>` (1,000 keys per directory) so the delimiter case has
 * many common prefixes to skip.
 *
 *   node packages/metadata/dist/bench/list-objects.js [--sizes 10000,1000000] [--pages 300]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalogueDb } from '../catalogue-db';
import { CatalogueStateMachine } from '../catalogue-state-machine';
import type { Command } from '../commands';
import { listObjects } from '../list-objects';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

function keyFor(n: number): string {
  return `dir-${String(Math.floor(n / 1000)).padStart(5, '0')}/file-${String(n).padStart(8, '0')}`;
}

async function build(machine: CatalogueStateMachine, keyCount: number): Promise<number> {
  const started = performance.now();
  await machine.applyBatch([{ type: 'createBucket', bucket: 'bench', owner: 'bench', createdAtMs: 1 }]);
  const chunk = 20_000;
  for (let from = 0; from < keyCount; from += chunk) {
    const commands: Command[] = [];
    for (let n = from; n < Math.min(keyCount, from + chunk); n++) {
      commands.push({
        type: 'commitVersion', writeId: undefined, bucket: 'bench', key: keyFor(n), versionId: `v${n}`, sizeBytes: 1024,
        etag: '0123456789abcdef0123456789abcdef', checksums: {}, contentType: 'application/octet-stream', systemMetadata: {},
        userMetadata: {}, storageClass: 'STANDARD', createdAtMs: 1,
        stripe: { stripeId: `s${n}`, dataShardCount: 6, parityShardCount: 3, blockSizeBytes: 1 << 20, shardNodeIds: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'], degradedSpread: false },
        inlineData: undefined,
      });
    }
    // Stripe nodes must exist; register them once.
    if (from === 0) await machine.applyBatch(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((nodeId) => ({ type: 'registerNode', nodeId, az: 'az', address: 'x:1', capacityBytes: 1, freeBytes: 1, registeredAtMs: 1 })));
    await machine.applyBatch(commands, 20_000);
  }
  return (performance.now() - started) / 1000;
}

async function measure(machine: CatalogueStateMachine, keyCount: number, delimiter: string, pageCount: number): Promise<{ p50: number; p99: number; items: number }> {
  const latenciesMs: number[] = [];
  let items = 0;
  for (let i = 0; i < pageCount; i++) {
    // Deterministic spread of start positions over the whole bucket.
    const start = Math.floor(((i * 7919) % pageCount) / pageCount * Math.max(1, keyCount - 2000));
    const began = performance.now();
    const page = await listObjects(machine.db, { bucket: 'bench', prefix: '', delimiter, startAfter: keyFor(start), continuationToken: '', maxKeys: 1000 });
    latenciesMs.push(performance.now() - began);
    items += page.objects.length + page.commonPrefixes.length;
  }
  latenciesMs.sort((a, b) => a - b);
  return { p50: percentile(latenciesMs, 0.5), p99: percentile(latenciesMs, 0.99), items: items / pageCount };
}

async function main(): Promise<void> {
  const sizes = arg('sizes', '10000,1000000').split(',').map(Number);
  const pageCount = Number(arg('pages', '300'));
  const rows: string[] = [];
  for (const keyCount of sizes) {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-list-'));
    const db = await openCatalogueDb(join(dir, 'state'));
    try {
      const machine = await CatalogueStateMachine.open(db);
      const buildSeconds = await build(machine, keyCount);
      await measure(machine, keyCount, '', 20); // warm up
      const flat = await measure(machine, keyCount, '', pageCount);
      const grouped = await measure(machine, keyCount, '/', Math.min(pageCount, 100));
      rows.push(`| ${keyCount.toLocaleString('en-US')} | no delimiter | ${flat.items.toFixed(0)} | ${flat.p50.toFixed(2)} | ${flat.p99.toFixed(2)} | ${buildSeconds.toFixed(1)} |`);
      rows.push(`| ${keyCount.toLocaleString('en-US')} | delimiter "/" | ${grouped.items.toFixed(0)} | ${grouped.p50.toFixed(2)} | ${grouped.p99.toFixed(2)} | |`);
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log('ListObjectsV2 page (max-keys 1000) straight from the state machine LevelDB, one reader:\n');
  console.log('| keys in bucket | listing | items per page | p50 ms | p99 ms | bulk load s |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

void main();
