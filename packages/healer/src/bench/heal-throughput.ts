/**
 * Healing throughput: time to full redundancy after one storage node is lost, as MB/s of
 * rebuilt shard data, without and with concurrent client reads (their p50/p99 latency is
 * measured before and during healing). In-process cluster: 3 metadata nodes, 9 storage nodes
 * in 3 AZs, 4+2 stripes of 1 MiB blocks, objects written like the gateway's data path.
 *
 *   node packages/healer/dist/bench/heal-throughput.js [--bytes 512MiB] [--object-bytes 16MiB] [--readers 4] [--throttled-rate 16MiB]
 *
 * `--bytes` is the shard bytes the lost node should hold (the figure: 2GiB).
 */
import { silentLogger, systemClock } from '@tessera/common';
import { Healer } from '../healer';
import { healerDefaults } from '../healer-options';
import { createHealerMetrics } from '../metrics';
import { Registry } from 'prom-client';
import { randomBody, startHealerTestCluster, waitFor } from '../testing/cluster-under-test';
import type { HealerTestCluster } from '../testing/cluster-under-test';

const shape = { dataShardCount: 4, parityShardCount: 2, blockSizeBytes: 1024 * 1024 };
const graceMs = 3_000;

function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(text.trim());
  if (match === null) throw new Error(`bad size ${text}`);
  const units: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
  return Math.round(Number(match[1]) * (units[(match[2] ?? 'b').toLowerCase()] ?? 1));
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Readers GET random client objects (decode from k shards) until stopped; latencies in ms. */
function startReaders(cluster: HealerTestCluster, keys: readonly string[], readerCount: number): { stop: () => Promise<number[]> } {
  let running = true;
  const latenciesMs: number[] = [];
  const loops = Array.from({ length: readerCount }, async () => {
    while (running) {
      const key = keys[Math.floor(Math.random() * keys.length)] ?? '';
      const started = performance.now();
      await cluster.readObject('bench', key);
      latenciesMs.push(performance.now() - started);
    }
  });
  return { stop: async () => { running = false; await Promise.all(loops); return latenciesMs; } };
}

async function loseNodeAndHeal(cluster: HealerTestCluster, healer: Healer, nodeId: string): Promise<{ heldBytes: number; seconds: number; bytesWritten: number }> {
  const entries = (await cluster.metadata.listNodeShards({ nodeId, afterStripeId: '', afterShardIndex: 0, limit: 10_000 })).shards;
  const heldBytes = entries.reduce((sum, e) => sum + Math.ceil((e.location?.dataSizeBytes ?? 0) / shape.dataShardCount), 0);
  await cluster.stopStorageNode(nodeId);
  await waitFor('node down', async () => ((await cluster.metadata.listNodes()).find((n) => n.nodeId === nodeId)?.state === 'down' ? true : undefined), 60_000);
  // The grace period (3 s) keeps nodes that merely miss heartbeats under CPU load (down after 2.5 s
  // in this cluster) from being rebuilt too; the clock starts when the loss is declared.
  await new Promise((resolve) => setTimeout(resolve, graceMs + 100));
  const started = performance.now();
  let bytesWritten = 0;
  for (;;) {
    const round = await healer.healOnce();
    bytesWritten += round.bytesWritten;
    if (round.stripeCount === 0) break;
  }
  return { heldBytes, seconds: (performance.now() - started) / 1000, bytesWritten };
}

async function main(): Promise<void> {
  const nodeBytesTarget = parseBytes(arg('bytes', '512MiB'));
  const objectBytes = parseBytes(arg('object-bytes', '16MiB'));
  const readerCount = Number(arg('readers', '4'));
  const throttledRateBytesPerSecond = parseBytes(arg('throttled-rate', '16MiB'));
  const cluster = await startHealerTestCluster(shape);
  const healer = new Healer({
    ...healerDefaults, metadataAddresses: cluster.metadataAddresses, workerId: 'bench', nodeLossGraceMs: graceMs,
    rebuildRateBytesPerSecond: 4 * 1024 ** 3, rebuildConcurrency: 2, rebuildWindowBytes: 1024 * 1024,
  }, { metadata: cluster.metadata, clock: systemClock, logger: silentLogger, metrics: createHealerMetrics(new Registry()) });
  try {
    await cluster.metadata.createBucket({ bucket: 'bench', owner: 'bench' });
    // A node holds one shard (object / k bytes) of 6 in 9 stripes on average.
    const objectCount = Math.ceil(nodeBytesTarget / ((objectBytes / shape.dataShardCount) * (6 / 9)));
    const body = randomBody(objectBytes);
    let written = 0;
    await Promise.all(Array.from({ length: 2 }, async () => {
      while (written < objectCount) {
        const i = written++;
        body.writeUInt32LE(i, 0); // distinct contents, same allocation
        await cluster.putObject('bench', `big-${i}`, body);
      }
    }));
    const clientKeys: string[] = [];
    for (let i = 0; i < 32; i++) {
      await cluster.putObject('bench', `client-${i}`, randomBody(1024 * 1024));
      clientKeys.push(`client-${i}`);
    }
    const baselineReaders = startReaders(cluster, clientKeys, readerCount);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const baseline = await baselineReaders.stop();

    const quiet = await loseNodeAndHeal(cluster, healer, 'az-a-n1');
    const loadedReaders = startReaders(cluster, clientKeys, readerCount);
    const loaded = await loseNodeAndHeal(cluster, healer, 'az-b-n1');
    const during = await loadedReaders.stop();
    // Operator priority the other way: a throttled rebuild under the same client load.
    healer.setRebuildRate(throttledRateBytesPerSecond);
    const throttledReaders = startReaders(cluster, clientKeys, readerCount);
    const throttled = await loseNodeAndHeal(cluster, healer, 'az-c-n1');
    const duringThrottled = await throttledReaders.stop();

    const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
    console.log(`\nHealing throughput (4+2, 1 MiB blocks, ${objectCount} objects of ${mb(objectBytes)} MB, load ≈ ${(await import('node:os')).loadavg()[0]?.toFixed(1)})\n`);
    console.log('| client load | lost node held MB | rebuilt MB | seconds to full redundancy | rebuild MB/s | client GET p50 ms | client GET p99 ms |');
    console.log('|---|---|---|---|---|---|---|');
    console.log(`| none (baseline reads, no healing) | | | | | ${percentile(baseline, 50).toFixed(1)} | ${percentile(baseline, 99).toFixed(1)} |`);
    console.log(`| none | ${mb(quiet.heldBytes)} | ${mb(quiet.bytesWritten)} | ${quiet.seconds.toFixed(1)} | ${mb(quiet.bytesWritten / quiet.seconds)} | | |`);
    console.log(`| ${readerCount} readers of 1 MiB objects | ${mb(loaded.heldBytes)} | ${mb(loaded.bytesWritten)} | ${loaded.seconds.toFixed(1)} | ${mb(loaded.bytesWritten / loaded.seconds)} | ${percentile(during, 50).toFixed(1)} | ${percentile(during, 99).toFixed(1)} |`);
    console.log(`| ${readerCount} readers, rebuild throttled to ${mb(throttledRateBytesPerSecond)} MB/s | ${mb(throttled.heldBytes)} | ${mb(throttled.bytesWritten)} | ${throttled.seconds.toFixed(1)} | ${mb(throttled.bytesWritten / throttled.seconds)} | ${percentile(duringThrottled, 50).toFixed(1)} | ${percentile(duringThrottled, 99).toFixed(1)} |`);
  } finally {
    await healer.stop();
    await cluster.stop();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
