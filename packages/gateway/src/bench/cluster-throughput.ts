/**
 * Throughput and latency of the whole cluster through the gateway, every server its own
 * process on this machine: 3 metadata nodes, 9 storage nodes (az-a/b/c), 1 gateway, all
 * spawned from their dist/main.js, driven by @aws-sdk/client-s3 (default checksum behaviour).
 *
 * Prints markdown tables: PUT and GET MB/s, ops/s and latency p50/p99 for 4 KiB, 1 MiB and
 * 64 MiB objects at concurrency 1 and 8 (a fixed byte and op budget per case), plus the three
 * cases the issue compares with Ceph RGW on this machine (16 MiB x1, 1 MiB x8, 4 KiB x16) in a
 * comparison table; the gateway's peak RSS while one 1 GiB object is PUT from a stream; and
 * small-object latency inline (metadata) vs striped (gateway restarted with
 * --inline-size-bytes-max 0).
 *
 *   npm run bench -- gateway            (all gateway benches)
 *   node packages/gateway/dist/bench/cluster-throughput.js [--quick] [--only "1 MiB"] [--skip-rss] [--skip-small] [--sse]
 *
 * `--sse`: the bench bucket gets default encryption (SSE-S3), so every object is encrypted.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, PutBucketEncryptionCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { findFreePortBlock } from '@tessera/rpc';
import { cephReference } from './support/ceph-reference';

const root = process.cwd();
const accessKeyId = 'TESSERABENCHKEY00001';
const secretAccessKey = 'bench/secret/key/0123456789abcdef';
const quick = process.argv.includes('--quick');
const skipRss = process.argv.includes('--skip-rss');
const skipSmall = process.argv.includes('--skip-small');
const serverSideEncryption = process.argv.includes('--sse');
const onlyIndex = process.argv.indexOf('--only');
/** `--only "1 MiB"`: run just the cases of that object size (for profiling one case). */
const onlyLabel = onlyIndex >= 0 ? process.argv[onlyIndex + 1] : undefined;
const blockSizeIndex = process.argv.indexOf('--block-size-bytes');
/** `--block-size-bytes N`: the gateway's stripe block size (default 1 MiB, the gateway's default). */
const blockSizeBytes = blockSizeIndex >= 0 ? Number(process.argv[blockSizeIndex + 1]) : 1024 * 1024;

/** [label, bytes, concurrency]: the grid, then the cases compared with Ceph RGW. */
const cases: ReadonlyArray<readonly [string, number, number]> = [
  ['4 KiB', 4 * 1024, 1],
  ['4 KiB', 4 * 1024, 8],
  ['4 KiB', 4 * 1024, 16],
  ['1 MiB', 1024 * 1024, 1],
  ['1 MiB', 1024 * 1024, 8],
  ['16 MiB', 16 * 1024 * 1024, 1],
  ['64 MiB', 64 * 1024 * 1024, 1],
  ['64 MiB', 64 * 1024 * 1024, 8],
];

interface Spawned {
  readonly child: ChildProcess;
  readonly firstLine: Promise<Record<string, unknown>>;
}

/**
 * Extra node flags for every spawned server, for profiling a case:
 * `TESSERA_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` (NODE_OPTIONS refuses --cpu-prof).
 */
const spawnedNodeArgs = (process.env['TESSERA_BENCH_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');

function spawnNode(script: string, args: readonly string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, [...spawnedNodeArgs, join(root, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const firstLine = new Promise<Record<string, unknown>>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      // A throw here would be uncaught and end the bench with its servers left running (a node
      // flag that prints to stdout did so): reject, and startCluster stops them.
      try {
        resolve(JSON.parse(stdout.slice(0, newline)) as Record<string, unknown>);
      } catch (error) {
        reject(new Error(`${script} printed ${JSON.stringify(stdout.slice(0, Math.min(newline, 200)))} before its ready line (a node flag writing to stdout?): ${String(error)}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${stderr}`)));
  });
  firstLine.catch(() => undefined);
  return { child, firstLine };
}

async function waitForReady(url: string, timeoutMs: number): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (Date.now() < deadlineMs) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

interface Cluster {
  readonly metadataAddresses: string;
  readonly children: ChildProcess[];
  readonly dir: string;
}

async function startCluster(): Promise<Cluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-cluster-'));
  const ports = [await findFreePortBlock('127.0.0.1', 1), await findFreePortBlock('127.0.0.1', 1), await findFreePortBlock('127.0.0.1', 1)];
  const peers = ports.map((port, i) => `meta-${i + 1}=127.0.0.1:${port}`).join(',');
  const metadataAddresses = ports.map((port) => `127.0.0.1:${port}`).join(',');
  const children: ChildProcess[] = [];
  ports.forEach((port, i) => {
    const id = `meta-${i + 1}`;
    const metadataChild = spawnNode('packages/metadata/dist/main.js', ['--node-id', id, '--listen', `127.0.0.1:${port}`, '--peers', peers, '--data-dir', join(dir, id), '--log-level', 'error']).child;
    children.push(metadataChild);
    if (metadataChild.pid !== undefined) cpuPids.metadata.push(metadataChild.pid);
  });
  const storage: Spawned[] = [];
  for (const zone of ['az-a', 'az-b', 'az-c']) {
    for (let n = 1; n <= 3; n += 1) {
      const id = `${zone}-n${n}`;
      storage.push(spawnNode('packages/storage-node/dist/main.js', ['--node-id', id, '--zone', zone, '--listen', '127.0.0.1:0', '--data-dir', join(dir, id), '--metadata', metadataAddresses, '--metrics-listen', '127.0.0.1:0', '--log-level', 'error']));
    }
  }
  children.push(...storage.map((s) => s.child));
  for (const s of storage) if (s.child.pid !== undefined) cpuPids.storage.push(s.child.pid);
  try {
    await Promise.all(storage.map((s) => s.firstLine));
  } catch (error) {
    await Promise.all(children.map(stopProcess));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { metadataAddresses, children, dir };
}

interface Gateway {
  readonly child: ChildProcess;
  readonly endpoint: string;
}

async function startGatewayProcess(cluster: Cluster, extraArgs: readonly string[]): Promise<Gateway> {
  const metricsPort = await findFreePortBlock('127.0.0.1', 1);
  const spawned = spawnNode(
    'packages/gateway/dist/main.js',
    ['--listen', '127.0.0.1:0', '--metadata', cluster.metadataAddresses, '--metrics-listen', `127.0.0.1:${metricsPort}`, '--data-shards', '6', '--parity-shards', '3', '--block-size-bytes', String(blockSizeBytes), '--log-level', 'error', ...extraArgs],
    { TESSERA_ROOT_ACCESS_KEY: accessKeyId, TESSERA_ROOT_SECRET_KEY: secretAccessKey },
  );
  const line = await spawned.firstLine;
  await waitForReady(`http://127.0.0.1:${metricsPort}/health/ready`, 60_000);
  return { child: spawned.child, endpoint: String(line['endpoint']) };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

function s3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
}

function percentile(sortedMs: readonly number[], fraction: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor(fraction * sortedMs.length))] ?? Number.NaN;
}

interface CaseResult {
  readonly mbPerSecond: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time (all threads, user + system) per operation, by process group. */
  readonly cpuMsPerOp: CpuMs;
}

interface CpuMs {
  readonly gateway: number;
  readonly storage: number;
  readonly metadata: number;
  /** This process: the AWS SDK client. */
  readonly client: number;
  /** The storage nodes' system (kernel) time alone, included in `storage`. */
  readonly storageKernel: number;
}

/** Process ids whose CPU time is accounted per case (set once the cluster runs). */
const cpuPids = { gateway: [] as number[], storage: [] as number[], metadata: [] as number[] };

/** utime and stime of a process in ms; /proc reports clock ticks of USER_HZ = 100 on Linux. */
function processCpuMs(pid: number): { userMs: number; systemMs: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { userMs: Number(fields[11]) * 10, systemMs: Number(fields[12]) * 10 };
  } catch {
    return { userMs: 0, systemMs: 0 };
  }
}

function cpuSnapshot(): CpuMs {
  // One /proc read per process, so a group's total and its kernel part come from the same instant.
  const sum = (pids: readonly number[]): { userMs: number; systemMs: number } =>
    pids.map(processCpuMs).reduce((total, cpu) => ({ userMs: total.userMs + cpu.userMs, systemMs: total.systemMs + cpu.systemMs }), { userMs: 0, systemMs: 0 });
  const [gateway, storage, metadata] = [sum(cpuPids.gateway), sum(cpuPids.storage), sum(cpuPids.metadata)];
  const own = process.cpuUsage();
  return {
    gateway: gateway.userMs + gateway.systemMs,
    storage: storage.userMs + storage.systemMs,
    metadata: metadata.userMs + metadata.systemMs,
    client: (own.user + own.system) / 1000,
    storageKernel: storage.systemMs,
  };
}

async function runOps(count: number, concurrency: number, sizeBytes: number, op: (index: number) => Promise<void>): Promise<CaseResult> {
  const latenciesMs: number[] = [];
  let next = 0;
  const cpuBefore = cpuSnapshot();
  const startedMs = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const t0 = performance.now();
        await op(index);
        latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - startedMs) / 1000;
  const cpuAfter = cpuSnapshot();
  const perOp = (group: keyof CpuMs): number => (cpuAfter[group] - cpuBefore[group]) / count;
  latenciesMs.sort((a, b) => a - b);
  return {
    mbPerSecond: (count * sizeBytes) / 1e6 / seconds,
    opsPerSecond: count / seconds,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
    cpuMsPerOp: { gateway: perOp('gateway'), storage: perOp('storage'), metadata: perOp('metadata'), client: perOp('client'), storageKernel: perOp('storageKernel') },
  };
}

function opCount(sizeBytes: number, concurrency: number): number {
  const budgetBytes = (quick ? 64 : 512) * 1024 * 1024;
  return Math.max(concurrency * 2, Math.min(quick ? 200 : 1000, Math.floor(budgetBytes / sizeBytes)));
}

interface PutGetResult {
  readonly rows: string[];
  readonly cpuRows: string[];
  readonly put: CaseResult;
  readonly get: CaseResult;
}

async function putGet(client: S3Client, bucket: string, label: string, sizeBytes: number, concurrency: number): Promise<PutGetResult> {
  const body = randomBytes(sizeBytes);
  const count = opCount(sizeBytes, concurrency);
  // Unmeasured warm-up first (V8 optimises the hot paths of every process after a few hundred
  // calls; a short case measured cold reported half the steady-state rate of small objects).
  const warmUpCount = Math.min(200, Math.max(1, Math.floor((32 * 1024 * 1024) / sizeBytes)));
  await runOps(warmUpCount, Math.min(concurrency, warmUpCount), sizeBytes, async (i) => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${label}/c${concurrency}/warm-up/${i}`, Body: body }));
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${label}/c${concurrency}/warm-up/${i}` }));
    await response.Body!.transformToByteArray();
  });
  const put = await runOps(count, concurrency, sizeBytes, async (i) => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${label}/c${concurrency}/${i}`, Body: body }));
  });
  const get = await runOps(count, concurrency, sizeBytes, async (i) => {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${label}/c${concurrency}/${i}` }));
    const bytes = await response.Body!.transformToByteArray();
    if (bytes.length !== sizeBytes) throw new Error(`GET returned ${bytes.length} bytes, expected ${sizeBytes}`);
  });
  const row = (name: string, r: CaseResult): string =>
    `| ${name} | ${label} | ${concurrency} | ${count} | ${r.mbPerSecond.toFixed(1)} | ${r.opsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} |`;
  const cpuRow = (name: string, r: CaseResult): string => {
    const { gateway, storage, metadata, client, storageKernel } = r.cpuMsPerOp;
    const total = gateway + storage + metadata + client;
    // Two cores give 2000 ms of CPU per second: the most ops/s this machine can do at this cost.
    return `| ${name} | ${label} | ${concurrency} | ${gateway.toFixed(2)} | ${storage.toFixed(2)} | ${storageKernel.toFixed(2)} | ${metadata.toFixed(2)} | ${client.toFixed(2)} | ${total.toFixed(2)} | ${(2000 / total).toFixed(0)} |`;
  };
  return { rows: [row('PUT', put), row('GET', get)], cpuRows: [cpuRow('PUT', put), cpuRow('GET', get)], put, get };
}

function comparisonRows(results: ReadonlyMap<string, PutGetResult>): string[] {
  return cephReference.flatMap((reference) => {
    const result = results.get(`${reference.label} x${reference.concurrency}`);
    if (result === undefined) return [];
    const ours = (r: CaseResult): number => (reference.unit === 'MB/s' ? r.mbPerSecond : r.opsPerSecond);
    const cell = (value: number, cephValue: number): string => `${value.toFixed(0)} (${(value / cephValue).toFixed(2)}x)`;
    return [
      `| ${reference.label} x${reference.concurrency} | ${reference.unit} | ${reference.put} | ${cell(ours(result.put), reference.put)} | ${reference.get} | ${cell(ours(result.get), reference.get)} |`,
    ];
  });
}

async function vmValueKiB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return Number(match?.[1] ?? Number.NaN);
}

async function peakRssDuringHugePut(client: S3Client, bucket: string, gateway: Gateway, sizeBytes: number): Promise<string> {
  const pid = gateway.child.pid!;
  const chunk = randomBytes(1024 * 1024);
  async function* stream(): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < sizeBytes; sent += chunk.length) yield chunk;
  }
  let peakKiB = await vmValueKiB(pid, 'VmRSS');
  const sampler = setInterval(() => void vmValueKiB(pid, 'VmRSS').then((kib) => (peakKiB = Math.max(peakKiB, kib))), 50);
  const startedMs = performance.now();
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'huge', Body: Readable.from(stream()), ContentLength: sizeBytes }));
  const seconds = (performance.now() - startedMs) / 1000;
  clearInterval(sampler);
  const hwmKiB = await vmValueKiB(pid, 'VmHWM');
  return `| ${(sizeBytes / 1024 ** 3).toFixed(2)} GiB | ${(sizeBytes / 1e6 / seconds).toFixed(1)} | ${(peakKiB / 1024).toFixed(0)} | ${(hwmKiB / 1024).toFixed(0)} |`;
}

async function smallObjectRows(client: S3Client, bucket: string, layout: string): Promise<string[]> {
  const rows: string[] = [];
  for (const sizeBytes of [4 * 1024, 32 * 1024, 64 * 1024]) {
    const body = randomBytes(sizeBytes);
    const count = quick ? 50 : 200;
    const put = await runOps(count, 1, sizeBytes, async (i) => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `small-${layout}/${sizeBytes}/${i}`, Body: body }));
    });
    const get = await runOps(count, 1, sizeBytes, async (i) => {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `small-${layout}/${sizeBytes}/${i}` }));
      await response.Body!.transformToByteArray();
    });
    rows.push(`| ${layout} | ${sizeBytes / 1024} KiB | ${put.p50Ms.toFixed(1)} | ${put.p99Ms.toFixed(1)} | ${get.p50Ms.toFixed(1)} | ${get.p99Ms.toFixed(1)} |`);
  }
  return rows;
}

async function main(): Promise<void> {
  const cluster = await startCluster();
  let gateway: Gateway | undefined;
  try {
    gateway = await startGatewayProcess(cluster, []);
    if (gateway.child.pid !== undefined) cpuPids.gateway.push(gateway.child.pid);
    let client = s3Client(gateway.endpoint);
    await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    if (serverSideEncryption) {
      await client.send(new PutBucketEncryptionCommand({ Bucket: 'bench', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
      console.log('Every object encrypted (SSE-S3, the bucket\'s default encryption).\n');
    }
    if (!skipRss) {
      // The RSS figure first, so nothing earlier inflates the gateway's high-water mark.
      const rssRow = await peakRssDuringHugePut(client, 'bench', gateway, (quick ? 256 : 1024) * 1024 * 1024);
      console.log('Gateway memory during one streamed PUT (RS 6+3, 1 MiB blocks):\n');
      console.log('| object | PUT MB/s | peak RSS sampled (MiB) | VmHWM (MiB) |\n|---|---|---|---|');
      console.log(rssRow);
    }
    console.log('\nThroughput and latency (3 metadata + 9 storage + 1 gateway processes, one 2-core machine):\n');
    console.log('| op | object | concurrency | ops | MB/s | ops/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|---|');
    const results = new Map<string, PutGetResult>();
    for (const [label, sizeBytes, concurrency] of cases) {
      if (onlyLabel !== undefined && label !== onlyLabel) continue;
      const result = await putGet(client, 'bench', label, sizeBytes, concurrency);
      results.set(`${label} x${concurrency}`, result);
      for (const row of result.rows) console.log(row);
    }
    console.log('\nCPU time per operation in ms (user + system, all threads; storage = 9 nodes, metadata = 3 nodes; client = the AWS SDK in this process). Every process shares 2 cores, so 2000 / total bounds ops/s:\n');
    console.log('| op | object | concurrency | gateway | storage | of which kernel | metadata | client | total | ops/s bound |\n|---|---|---|---|---|---|---|---|---|---|');
    for (const result of results.values()) for (const row of result.cpuRows) console.log(row);
    const comparison = comparisonRows(results);
    if (comparison.length > 0) {
      console.log('\nAgainst Ceph RGW (EC 4+2) measured on this machine with an AWS SDK v3 client (figures from the gateway issue; the aim is 2x):\n');
      console.log('| case | unit | Ceph PUT | Tessera PUT | Ceph GET | Tessera GET |\n|---|---|---|---|---|---|');
      for (const row of comparison) console.log(row);
    }
    if (skipSmall) return;
    const inlineRows = await smallObjectRows(client, 'bench', 'inline');
    client.destroy();
    await stopProcess(gateway.child);
    gateway = await startGatewayProcess(cluster, ['--inline-size-bytes-max', '0']);
    client = s3Client(gateway.endpoint);
    const stripedRows = await smallObjectRows(client, 'bench', 'striped');
    client.destroy();
    console.log('\nSmall objects, concurrency 1: inline in the metadata vs striped RS 6+3:\n');
    console.log('| layout | object | PUT p50 ms | PUT p99 ms | GET p50 ms | GET p99 ms |\n|---|---|---|---|---|---|');
    for (const row of [...inlineRows, ...stripedRows]) console.log(row);
  } finally {
    if (gateway !== undefined) await stopProcess(gateway.child);
    await Promise.all(cluster.children.map(stopProcess));
    await rm(cluster.dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
