/**
 * Shard write and read throughput of one storage node over loopback, with fsync on (as in
 * production), through StorageNodeClient's default transport (the shard data protocol;
 * `--transport grpc` for the gRPC streams). The node runs as a child process (`dist/main.js`), like in a deployment, so the
 * client and the node each get their own event loop. For reference the same sizes are also
 * written and read straight through node:fs (write + fdatasync, read) on the same disk.
 *
 *   npm run bench -- storage-node          (after a build; prints a markdown table)
 *   node packages/storage-node/dist/bench/shard-throughput.js [--total-mib 256] [--transport data|grpc]
 *
 * Reads are measured twice: right after the writes (page cache warm) and, when this process may
 * write /proc/sys/vm/drop_caches (root), again after dropping the page cache (from disk).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { StorageNodeClient } from '@tessera/rpc';

const blockSizeBytes = 256 * 1024;
const totalMiBArg = process.argv.indexOf('--total-mib');
const totalBytesPerCell = (totalMiBArg === -1 ? 256 : Number(process.argv[totalMiBArg + 1])) * 1024 * 1024;
const transportArg = process.argv.indexOf('--transport');
const transport: 'data' | 'grpc' = transportArg !== -1 && process.argv[transportArg + 1] === 'grpc' ? 'grpc' : 'data';

interface Cell {
  readonly shardSizeBytes: number;
  readonly concurrency: number;
}

/** CPU time (user + system) of a process so far, from /proc (Linux), in ms; 0 elsewhere. */
function processCpuMs(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

interface CpuSample {
  readonly clientMs: number;
  readonly nodeMs: number;
}

function cpuNow(nodePid: number): CpuSample {
  const usage = process.cpuUsage();
  return { clientMs: (usage.user + usage.system) / 1000, nodeMs: processCpuMs(nodePid) };
}

function cpuSince(start: CpuSample, nodePid: number): CpuSample {
  const now = cpuNow(nodePid);
  return { clientMs: now.clientMs - start.clientMs, nodeMs: now.nodeMs - start.nodeMs };
}

async function startNode(dataDir: string): Promise<{ address: string; pid: number; stop: () => Promise<void> }> {
  const mainJs = path.join(__dirname, '..', 'main.js');
  const child = spawn(process.execPath, [mainJs, '--node-id', 'bench', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--metrics-listen', '', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line !== undefined) resolve((JSON.parse(line) as { grpcAddress: string }).grpcAddress);
    });
    child.once('exit', (code) => reject(new Error(`node exited ${code}`)));
  });
  return {
    address,
    pid: child.pid ?? 0,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next]!;
        next += 1;
        await work(item);
      }
    }),
  );
}

function dropPageCache(): boolean {
  try {
    // Dirty pages must reach the disk before the cache can drop them.
    execFileSync('sync');
    fs.writeFileSync('/proc/sys/vm/drop_caches', '1\n');
    return true;
  } catch {
    return false;
  }
}

function mbPerS(bytes: number, ms: number): string {
  return ((bytes / 1e6) / (ms / 1e3)).toFixed(0);
}

interface CellResult {
  readonly writeMs: number;
  readonly warmReadMs: number;
  readonly coldReadMs: number | undefined;
  readonly bytes: number;
  readonly writeCpu: CpuSample;
  readonly readCpu: CpuSample;
}

async function measureCell(client: StorageNodeClient, nodePid: number, cell: Cell, payload: Buffer, runId: string): Promise<CellResult> {
  const shardCount = Math.max(cell.concurrency, Math.round(totalBytesPerCell / cell.shardSizeBytes));
  const ids = Array.from({ length: shardCount }, (_, i) => ({ objectVersionId: `bench-${runId}-${cell.shardSizeBytes}-${cell.concurrency}-${i}`, shardIndex: 0 }));
  const data = payload.subarray(0, cell.shardSizeBytes);
  const bytes = shardCount * cell.shardSizeBytes;
  const writeCpuStart = cpuNow(nodePid);
  const start = performance.now();
  await runPool(ids, cell.concurrency, async (shardId) => {
    await client.writeShard({ shardId, blockSizeBytes, expectedShardSizeBytes: data.byteLength, source: { kind: 'bytes', chunks: (async function* () { yield data; })() } });
  });
  const writeMs = performance.now() - start;
  const writeCpu = cpuSince(writeCpuStart, nodePid);
  const readAll = async (): Promise<number> => {
    const t0 = performance.now();
    await runPool(ids, cell.concurrency, async (shardId) => {
      let received = 0;
      for await (const chunk of client.readShard(shardId)) received += chunk.data.byteLength;
      if (received !== data.byteLength) throw new Error('short read');
    });
    return performance.now() - t0;
  };
  const readCpuStart = cpuNow(nodePid);
  const warmReadMs = await readAll();
  const readCpu = cpuSince(readCpuStart, nodePid);
  const coldReadMs = dropPageCache() ? await readAll() : undefined;
  await runPool(ids, 8, async (shardId) => {
    await client.deleteShard(shardId);
  });
  return { writeMs, warmReadMs, coldReadMs, bytes, writeCpu, readCpu };
}

/** The same bytes through node:fs directly: write + fdatasync per file, then read. */
async function measureRawFs(dir: string, cell: Cell, payload: Buffer): Promise<{ writeMs: number; coldReadMs: number | undefined; bytes: number }> {
  const shardCount = Math.max(cell.concurrency, Math.round(totalBytesPerCell / cell.shardSizeBytes));
  const files = Array.from({ length: shardCount }, (_, i) => path.join(dir, `raw-${i}`));
  const data = payload.subarray(0, cell.shardSizeBytes);
  let t0 = performance.now();
  await runPool(files, cell.concurrency, async (file) => {
    const handle = await fsp.open(file, 'w');
    await handle.write(data, 0, data.byteLength, 0);
    await handle.datasync();
    await handle.close();
  });
  const writeMs = performance.now() - t0;
  let coldReadMs: number | undefined;
  if (dropPageCache()) {
    t0 = performance.now();
    await runPool(files, cell.concurrency, async (file) => {
      await fsp.readFile(file);
    });
    coldReadMs = performance.now() - t0;
  }
  await Promise.all(files.map((f) => fsp.rm(f, { force: true })));
  return { writeMs, coldReadMs, bytes: shardCount * cell.shardSizeBytes };
}

async function main(): Promise<void> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'tessera-bench-sn-'));
  const rawDir = path.join(root, 'raw');
  await fsp.mkdir(rawDir);
  const node = await startNode(path.join(root, 'node'));
  const client = new StorageNodeClient({ address: node.address, shardTransport: transport });
  const payload = randomBytes(16 * 1024 * 1024);
  const cells: Cell[] = [
    { shardSizeBytes: 1024 * 1024, concurrency: 1 },
    { shardSizeBytes: 1024 * 1024, concurrency: 8 },
    { shardSizeBytes: 16 * 1024 * 1024, concurrency: 1 },
    { shardSizeBytes: 16 * 1024 * 1024, concurrency: 8 },
  ];
  const rows: string[] = [];
  try {
    // Warm-up: JIT, connection, directory creation.
    await measureCell(client, node.pid, { shardSizeBytes: 1024 * 1024, concurrency: 2 }, payload, 'warmup');
    for (const cell of cells) {
      const grpcResult = await measureCell(client, node.pid, cell, payload, 'run');
      const raw = await measureRawFs(rawDir, cell, payload);
      const grpcWrite = Number(mbPerS(grpcResult.bytes, grpcResult.writeMs));
      const rawWrite = Number(mbPerS(raw.bytes, raw.writeMs));
      const cold = grpcResult.coldReadMs === undefined ? 'n/a' : mbPerS(grpcResult.bytes, grpcResult.coldReadMs);
      const rawCold = raw.coldReadMs === undefined ? 'n/a' : mbPerS(raw.bytes, raw.coldReadMs);
      const cpuPerGB = (ms: number): string => ((ms / 1000) / (grpcResult.bytes / 1e9)).toFixed(1);
      rows.push(
        `| ${cell.shardSizeBytes / 1024 / 1024} MiB | ${cell.concurrency} | ${(grpcResult.bytes / 1024 / 1024).toFixed(0)} MiB | ${grpcWrite} | ${rawWrite} | ${((100 * grpcWrite) / rawWrite).toFixed(0)}% | ${mbPerS(grpcResult.bytes, grpcResult.warmReadMs)} | ${cold} | ${rawCold} | ${cpuPerGB(grpcResult.writeCpu.nodeMs)} / ${cpuPerGB(grpcResult.writeCpu.clientMs)} | ${cpuPerGB(grpcResult.readCpu.nodeMs)} / ${cpuPerGB(grpcResult.readCpu.clientMs)} |`,
      );
    }
  } finally {
    client.close();
    await node.stop();
    await fsp.rm(root, { recursive: true, force: true });
  }
  console.log(`Storage node shard throughput over loopback, ${transport === 'data' ? 'shard data protocol' : 'gRPC streams'} (block ${blockSizeBytes / 1024} KiB, fsync on, node in a child process, MB/s = 10^6 B/s; ${os.cpus().length} cores)\n`);
  console.log(`Load average at start: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}. CPU columns: CPU seconds per GB moved, node / client (load-independent).\n`);
  console.log('| shard size | concurrency | bytes moved | write MB/s | raw fs write+fdatasync MB/s | write vs raw | read MB/s (page cache) | read MB/s (cache dropped) | raw fs read MB/s (cache dropped) | write CPU s/GB node / client | read CPU s/GB node / client |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
