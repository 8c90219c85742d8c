/**
 * Healing throughput (issue 7): time to full redundancy after one storage node holding ~2 GiB
 * of shards is lost, as MB/s of rebuilt shard data, without and with concurrent client reads,
 * and the clients' GET latency (p50/p99) before and during healing. A third run repeats the
 * loaded one with the rebuild throttled (operator priority to clients).
 *
 * In-process cluster (testing/cluster-under-test.ts): 3 metadata nodes (Raft + LevelDB), 9
 * storage nodes in 3 AZs (real FsShardStore on disk, gRPC on loopback), 4+2 stripes of 1 MiB
 * blocks, objects written like the gateway's data path; the healer's own `healOnce` rounds.
 * One process hosts all of it, so the figures are those of one Node event loop doing the
 * servers', the clients' and the healer's work (see the README for where the time goes).
 *
 *   npm run bench -- healer                  # the issue's figure: the lost node holds 2 GiB
 *   npm run bench -- healer --quick          # 256 MiB, a couple of minutes
 *   node packages/healer/dist/bench/heal-throughput.js [--bytes=2GiB] [--object-bytes=16MiB]
 *        [--readers=4] [--throttled-rate=16MiB] [--no-throttled] [--window=1MiB]
 *        [--profile-heal=/tmp/heal.cpuprofile]   # CPU profile of the unloaded heal only
 *
 * "Full redundancy" is checked, not assumed: after the last round the lost node's index
 * (ListNodeShards) must be empty and every stripe it held must have all k+m shards placed on
 * up nodes, and a sample of objects is read back and compared byte for byte.
 */
import { silentLogger, systemClock } from '@tessera/common';
import * as fs from 'node:fs';
import { Session } from 'node:inspector';
import * as os from 'node:os';
import { Registry } from 'prom-client';
import { Healer } from '../healer';
import { healerDefaults } from '../healer-options';
import { createHealerMetrics } from '../metrics';
import { randomBody, sha256, startHealerTestCluster, waitFor } from '../testing/cluster-under-test';
import type { HealerTestCluster } from '../testing/cluster-under-test';

const shape = { dataShardCount: 4, parityShardCount: 2, blockSizeBytes: 1024 * 1024 };
const graceMs = 3_000;
const quickNodeBytes = 256 * 1024 ** 2;
const fullNodeBytes = 2 * 1024 ** 3;

function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(text.trim());
  if (match === null) throw new Error(`bad size ${text}`);
  const units: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
  return Math.round(Number(match[1]) * (units[(match[2] ?? 'b').toLowerCase()] ?? 1));
}

/** `--name=value` (what `npm run bench -- …` can pass through) or `--name value`. */
function arg(name: string, fallback: string): string {
  const inline = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (inline !== undefined) return inline.slice(name.length + 3);
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface ReaderStats {
  readonly latenciesMs: number[];
  readonly errorCount: number;
}

/** Readers GET random client objects (decode from k shards) until stopped; latencies in ms. */
function startReaders(cluster: HealerTestCluster, keys: readonly string[], readerCount: number): { stop: () => Promise<ReaderStats> } {
  let running = true;
  const latenciesMs: number[] = [];
  let errorCount = 0;
  const loops = Array.from({ length: readerCount }, async () => {
    while (running) {
      const key = keys[Math.floor(Math.random() * keys.length)] ?? '';
      const started = performance.now();
      try {
        await cluster.readObject('bench', key);
        latenciesMs.push(performance.now() - started);
      } catch {
        errorCount += 1;
      }
    }
  });
  return { stop: async () => { running = false; await Promise.all(loops); return { latenciesMs, errorCount }; } };
}

interface HealRun {
  readonly heldBytes: number;
  readonly heldShardCount: number;
  readonly seconds: number;
  readonly bytesWritten: number;
  readonly roundCount: number;
}

/** Every entry the metadata index maps to `nodeId` (paged). */
async function nodeShards(cluster: HealerTestCluster, nodeId: string): Promise<Array<{ stripeId: string; shardIndex: number; dataSizeBytes: number }>> {
  const out: Array<{ stripeId: string; shardIndex: number; dataSizeBytes: number }> = [];
  let afterStripeId = '';
  let afterShardIndex = 0;
  for (;;) {
    const page = await cluster.metadata.listNodeShards({ nodeId, afterStripeId, afterShardIndex, limit: 1_000 });
    for (const e of page.shards) out.push({ stripeId: e.stripeId, shardIndex: e.shardIndex, dataSizeBytes: e.location?.dataSizeBytes ?? 0 });
    const last = page.shards[page.shards.length - 1];
    if (!page.isTruncated || last === undefined) return out;
    afterStripeId = last.stripeId;
    afterShardIndex = last.shardIndex;
  }
}

/** A CPU profile of one phase only (node --cpu-prof would mix in the writes and the baseline). */
async function startCpuProfile(): Promise<() => Promise<object>> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> => new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => (err === null ? resolve(result) : reject(err)));
  });
  await post('Profiler.enable');
  await post('Profiler.start');
  return async () => {
    const { profile } = (await post('Profiler.stop')) as { profile: object };
    session.disconnect();
    return profile;
  };
}

async function loseNodeAndHeal(cluster: HealerTestCluster, healer: Healer, nodeId: string, profilePath?: string): Promise<HealRun> {
  const entries = await nodeShards(cluster, nodeId);
  const heldBytes = entries.reduce((sum, e) => sum + Math.ceil(e.dataSizeBytes / shape.dataShardCount), 0);
  await cluster.stopStorageNode(nodeId);
  await waitFor('node down', async () => ((await cluster.metadata.listNodes()).find((n) => n.nodeId === nodeId)?.state === 'down' ? true : undefined), 60_000);
  // The grace period (3 s) keeps nodes that merely miss heartbeats under CPU load (down after 2.5 s
  // in this cluster) from being rebuilt too; the clock starts when the loss is declared.
  await new Promise((resolve) => setTimeout(resolve, graceMs + 100));
  const stopProfile = profilePath === undefined ? undefined : await startCpuProfile();
  const started = performance.now();
  let bytesWritten = 0;
  let roundCount = 0;
  for (;;) {
    const round = await healer.healOnce();
    roundCount += 1;
    bytesWritten += round.bytesWritten;
    if (round.stripeCount === 0) break;
  }
  const seconds = (performance.now() - started) / 1000;
  if (stopProfile !== undefined && profilePath !== undefined) {
    fs.writeFileSync(profilePath, JSON.stringify(await stopProfile()));
    console.log(`CPU profile of the unloaded heal written to ${profilePath} (open in Chrome DevTools)`);
  }
  await checkFullRedundancy(cluster, nodeId, new Set(entries.map((e) => e.stripeId)));
  return { heldBytes, heldShardCount: entries.length, seconds, bytesWritten, roundCount };
}

/** The lost node maps nothing any more, and each stripe it held has all k+m shard indexes on up nodes. */
async function checkFullRedundancy(cluster: HealerTestCluster, lostNodeId: string, lostStripeIds: ReadonlySet<string>): Promise<void> {
  const left = await nodeShards(cluster, lostNodeId);
  if (left.length > 0) throw new Error(`${left.length} shard(s) still mapped to ${lostNodeId} after healing`);
  const upNodeIds = (await cluster.metadata.listNodes()).filter((n) => n.state === 'up').map((n) => n.nodeId);
  const indexesByStripe = new Map<string, Set<number>>();
  for (const nodeId of upNodeIds) {
    for (const e of await nodeShards(cluster, nodeId)) {
      if (!lostStripeIds.has(e.stripeId)) continue;
      indexesByStripe.set(e.stripeId, new Set([...(indexesByStripe.get(e.stripeId) ?? []), e.shardIndex]));
    }
  }
  const shardCount = shape.dataShardCount + shape.parityShardCount;
  const below = [...lostStripeIds].filter((id) => (indexesByStripe.get(id)?.size ?? 0) < shardCount);
  if (below.length > 0) throw new Error(`${below.length} stripe(s) of ${lostNodeId} below ${shardCount} shards on up nodes after healing`);
}

interface WrittenObjects {
  readonly keys: string[];
  readonly digests: Map<string, string>;
  readonly seconds: number;
}

async function writeObjects(cluster: HealerTestCluster, objectCount: number, objectBytes: number): Promise<WrittenObjects> {
  const body = randomBody(objectBytes);
  const keys: string[] = [];
  const digests = new Map<string, string>();
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: 2 }, async () => {
    while (next < objectCount) {
      const i = next++;
      // Distinct contents per object; a copy, since the two writers run concurrently.
      const copy = Buffer.from(body);
      copy.writeUInt32LE(i, 0);
      const key = `big-${i}`;
      await cluster.putObject('bench', key, copy);
      keys.push(key);
      // A sample is kept for the final byte-for-byte check.
      if (i % 64 === 0) digests.set(key, sha256(copy));
    }
  }));
  return { keys, digests, seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const quick = flag('quick');
  const nodeBytesTarget = parseBytes(arg('bytes', quick ? '256MiB' : '2GiB'));
  const objectBytes = parseBytes(arg('object-bytes', '16MiB'));
  const readerCount = Number(arg('readers', '4'));
  const throttledRateBytesPerSecond = parseBytes(arg('throttled-rate', '16MiB'));
  const runThrottled = !flag('no-throttled');
  const profilePath = arg('profile-heal', '') === '' ? undefined : arg('profile-heal', '');
  const windowBytes = parseBytes(arg('window', '1MiB'));
  const loadBefore = os.loadavg()[0] ?? 0;
  console.log(`heal-throughput: lost node to hold ${(nodeBytesTarget / 1024 ** 3).toFixed(2)} GiB (${quick ? '--quick' : nodeBytesTarget === fullNodeBytes ? 'full size' : 'custom'}; quick is ${quickNodeBytes / 1024 ** 2} MiB), ${os.cpus().length} cores, load ${loadBefore.toFixed(1)}`);
  const cluster = await startHealerTestCluster(shape);
  const healer = new Healer({
    ...healerDefaults, metadataAddresses: cluster.metadataAddresses, workerId: 'bench', nodeLossGraceMs: graceMs,
    rebuildRateBytesPerSecond: 4 * 1024 ** 3, rebuildConcurrency: 2, rebuildWindowBytes: windowBytes,
  }, { metadata: cluster.metadata, clock: systemClock, logger: silentLogger, metrics: createHealerMetrics(new Registry()) });
  try {
    await cluster.metadata.createBucket({ bucket: 'bench', owner: 'bench' });
    // A node holds one shard (object / k bytes) of 6 in 9 stripes on average; +5 % so the
    // three lost nodes (whose shards land on the others) each hold at least the target.
    const objectCount = Math.ceil((nodeBytesTarget / ((objectBytes / shape.dataShardCount) * (6 / 9))) * 1.05);
    const written = await writeObjects(cluster, objectCount, objectBytes);
    console.log(`wrote ${objectCount} objects of ${(objectBytes / 1e6).toFixed(1)} MB in ${written.seconds.toFixed(1)} s (${((objectCount * objectBytes) / 1e6 / written.seconds).toFixed(1)} MB/s of object data)`);
    const clientKeys: string[] = [];
    for (let i = 0; i < 32; i++) {
      await cluster.putObject('bench', `client-${i}`, randomBody(1024 * 1024));
      clientKeys.push(`client-${i}`);
    }
    const baselineReaders = startReaders(cluster, clientKeys, readerCount);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const baseline = await baselineReaders.stop();

    const quiet = await loseNodeAndHeal(cluster, healer, 'az-a-n1', profilePath);
    console.log(`no client load: ${(quiet.bytesWritten / 1e6).toFixed(1)} MB rebuilt in ${quiet.seconds.toFixed(1)} s`);
    const loadedReaders = startReaders(cluster, clientKeys, readerCount);
    const loaded = await loseNodeAndHeal(cluster, healer, 'az-b-n1');
    const during = await loadedReaders.stop();
    console.log(`${readerCount} readers: ${(loaded.bytesWritten / 1e6).toFixed(1)} MB rebuilt in ${loaded.seconds.toFixed(1)} s`);
    let throttled: HealRun | undefined;
    let duringThrottled: ReaderStats | undefined;
    if (runThrottled) {
      // Operator priority the other way: a throttled rebuild under the same client load.
      healer.setRebuildRate(throttledRateBytesPerSecond);
      const throttledReaders = startReaders(cluster, clientKeys, readerCount);
      throttled = await loseNodeAndHeal(cluster, healer, 'az-c-n1');
      duringThrottled = await throttledReaders.stop();
    }
    // Rebuilt data must decode to the bytes written (a sample of the big objects).
    for (const [key, digest] of written.digests) {
      if (sha256(await cluster.readObject('bench', key)) !== digest) throw new Error(`${key} reads back different bytes after healing`);
    }

    const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
    const row = (label: string, run: HealRun, reads: ReaderStats | undefined): string =>
      `| ${label} | ${mb(run.heldBytes)} (${run.heldShardCount} shards) | ${mb(run.bytesWritten)} | ${run.roundCount} | ${run.seconds.toFixed(1)} | **${mb(run.bytesWritten / run.seconds)}** | ${reads === undefined ? '' : `${reads.latenciesMs.length} (${reads.errorCount} failed)`} | ${reads === undefined ? '' : percentile(reads.latenciesMs, 50).toFixed(1)} | ${reads === undefined ? '' : percentile(reads.latenciesMs, 99).toFixed(1)} |`;
    console.log(`\nHealing throughput (4+2, 1 MiB blocks, rebuild window ${mb(windowBytes)} MB, ${objectCount} objects of ${mb(objectBytes)} MB, ${os.cpus().length} cores, load ${loadBefore.toFixed(1)} before / ${(os.loadavg()[0] ?? 0).toFixed(1)} after; verified: lost node maps nothing, every stripe of it has all k+m shards on up nodes, ${written.digests.size} objects read back identical)\n`);
    console.log('| client load | lost node held MB | rebuilt MB | heal rounds | seconds to full redundancy | rebuild MB/s | client GETs | client GET p50 ms | client GET p99 ms |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    console.log(`| none (baseline reads, no healing) | | | | | | ${baseline.latenciesMs.length} (${baseline.errorCount} failed) | ${percentile(baseline.latenciesMs, 50).toFixed(1)} | ${percentile(baseline.latenciesMs, 99).toFixed(1)} |`);
    console.log(row('none', quiet, undefined));
    console.log(row(`${readerCount} readers of 1 MiB objects`, loaded, during));
    if (throttled !== undefined) console.log(row(`${readerCount} readers, rebuild throttled to ${mb(throttledRateBytesPerSecond)} MB/s`, throttled, duringThrottled));
  } finally {
    await healer.stop();
    await cluster.stop();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
