// Goal: the real binary behaves as operators expect. Method: spawn `node dist/main.js` as a
// child process (built first if stale) on 127.0.0.1:0 and drive it with the real client:
// kill -9 in the middle of a write leaves no visible shard and the restarted node starts clean
// (temp files removed); an acknowledged write survives kill -9; SIGTERM drains and exits 0;
// a port in use gives a clear error; /metrics and /health/* answer over HTTP.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RpcStatusError, ShardNotFoundError, StorageNodeClient } from '@tessera/rpc';
import { chunksOf, expectRejects, listFiles, makeTempDir, randomShardBytes, shardIdOf, waitFor } from './helpers';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const mainJs = path.join(repoRoot, 'packages', 'storage-node', 'dist', 'main.js');
const blockSizeBytes = 64 * 1024;

interface RunningNode {
  readonly child: ChildProcessWithoutNullStreams;
  readonly grpcAddress: string;
  readonly metricsAddress: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

beforeAll(() => {
  // The child runs compiled JavaScript; build it if it is missing or older than the sources.
  const sources = ['storage-node', 'rpc', 'proto', 'common', 'checksum'].map((p) => newestMtimeMs(path.join(repoRoot, 'packages', p, 'src')));
  if (!fs.existsSync(mainJs) || fs.statSync(mainJs).mtimeMs < Math.max(...sources)) {
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/storage-node'], { cwd: repoRoot, stdio: 'pipe' });
  }
}, 120_000);

function startChild(dataDir: string, extraArgs: string[] = []): Promise<RunningNode> {
  const child = spawn(process.execPath, [mainJs, '--node-id', 'proc-node', '--zone', 'z9', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--metrics-listen', '127.0.0.1:0', '--log-level', 'warn', ...extraArgs], {
    cwd: repoRoot,
    stdio: 'pipe',
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n').find((l) => l.includes('"listening"'));
      if (line !== undefined) {
        const parsed = JSON.parse(line) as { grpcAddress: string; metricsAddress: string };
        resolve({ child, grpcAddress: parsed.grpcAddress, metricsAddress: parsed.metricsAddress, exited });
      }
    });
    void exited.then((e) => reject(new Error(`node exited before listening: ${e.code} ${e.stderr}`)));
  });
}


/** A write that sends a few blocks, then hangs until `release` is called. */
function stalledWrite(client: StorageNodeClient, name: string): { done: Promise<unknown>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  async function* source() {
    yield randomShardBytes(blockSizeBytes * 20, 1);
    await gate;
    yield randomShardBytes(blockSizeBytes, 2);
  }
  const done = client.writeShard({ shardId: shardIdOf(name), blockSizeBytes, source: { kind: 'bytes', chunks: source() } }).then(
    (v) => v,
    (e: unknown) => e,
  );
  return { done, release };
}

describe('storage node process', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await makeTempDir('tessera-proc-');
  });
  afterAll(async () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('kill -9 in the middle of a write: no visible shard, and the restarted node starts clean', async () => {
    const first = await startChild(dataDir);
    const client = new StorageNodeClient({ address: first.grpcAddress });
    const kept = randomShardBytes(300_000, 3);
    await client.writeShard({ shardId: shardIdOf('acked-before-crash'), blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(kept, 50_000) } });
    const write = stalledWrite(client, 'torn');
    await waitFor(async () => (await listFiles(path.join(dataDir, 'tmp'))).length === 1);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    write.release();
    expect(await write.done).toBeInstanceOf(Error);
    client.close();
    // The crash left its temp file behind, but no shard file for it.
    expect((await listFiles(path.join(dataDir, 'tmp'))).length).toBe(1);
    expect((await listFiles(path.join(dataDir, 'shards'))).filter((f) => f.includes('torn'))).toEqual([]);

    const second = await startChild(dataDir);
    const client2 = new StorageNodeClient({ address: second.grpcAddress });
    try {
      expect(await listFiles(path.join(dataDir, 'tmp'))).toEqual([]);
      expect(await expectRejects(client2.statShard(shardIdOf('torn')))).toBeInstanceOf(ShardNotFoundError);
      expect((await client2.readShardToBuffer(shardIdOf('acked-before-crash'))).equals(kept)).toBe(true);
      const info = await client2.getNodeInfo();
      expect(info).toMatchObject({ nodeId: 'proc-node', zone: 'z9', shardCount: 1 });
    } finally {
      client2.close();
      second.child.kill('SIGKILL');
      await second.exited;
    }
  });

  it('SIGTERM: stops taking calls, cancels a stuck write after the grace period, cleans up, exits 0', async () => {
    const node = await startChild(dataDir, ['--shutdown-grace-ms', '300']);
    const client = new StorageNodeClient({ address: node.grpcAddress });
    const write = stalledWrite(client, 'during-sigterm');
    await waitFor(async () => (await listFiles(path.join(dataDir, 'tmp'))).length === 1);
    node.child.kill('SIGTERM');
    const exit = await node.exited;
    expect(exit.code).toBe(0);
    write.release();
    expect(await write.done).toBeInstanceOf(Error);
    client.close();
    expect(await listFiles(path.join(dataDir, 'tmp'))).toEqual([]);
    expect((await listFiles(path.join(dataDir, 'shards'))).filter((f) => f.includes('during-sigterm'))).toEqual([]);
  });

  it('a frozen node (SIGSTOP) fails a write in progress as UNAVAILABLE within the ping timeout; thawed, it cleans up and serves', async () => {
    const node = await startChild(dataDir);
    const client = new StorageNodeClient({ address: node.grpcAddress, pingIntervalMs: 200, pingTimeoutMs: 1_000 });
    try {
      const write = stalledWrite(client, 'frozen');
      await waitFor(async () => (await listFiles(path.join(dataDir, 'tmp'))).length === 1);
      node.child.kill('SIGSTOP');
      const startedMs = Date.now();
      const err = await write.done;
      expect(err).toBeInstanceOf(RpcStatusError);
      expect((err as RpcStatusError).code).toBe(14); // UNAVAILABLE
      expect((err as Error).message).toMatch(/did not answer a ping/);
      expect(Date.now() - startedMs).toBeLessThan(5_000);
      write.release();
      node.child.kill('SIGCONT');
      // The node sees the dropped connection once it runs again and removes the temp file.
      await waitFor(async () => (await listFiles(path.join(dataDir, 'tmp'))).length === 0);
      const bytes = randomShardBytes(100_000, 4);
      await client.writeShard({ shardId: shardIdOf('after-thaw'), blockSizeBytes, source: { kind: 'bytes', chunks: [bytes] } });
      expect((await client.readShardToBuffer(shardIdOf('after-thaw'))).equals(bytes)).toBe(true);
    } finally {
      client.close();
      node.child.kill('SIGCONT');
      node.child.kill('SIGKILL');
      await node.exited;
    }
  });

  it('a port already in use is a clear error and exit code 1', async () => {
    const node = await startChild(dataDir);
    try {
      const other = spawn(process.execPath, [mainJs, '--node-id', 'proc-node', '--listen', node.grpcAddress, '--data-dir', dataDir, '--metrics-listen', ''], { cwd: repoRoot });
      let stderr = '';
      other.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => other.on('exit', resolve));
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot listen on ${node.grpcAddress} for gRPC: address already in use`);
    } finally {
      node.child.kill('SIGTERM');
      await node.exited;
    }
  });

  it('serves /metrics, /health/live and /health/ready; refuses another node id on the same data dir', async () => {
    const node = await startChild(dataDir);
    try {
      const client = new StorageNodeClient({ address: node.grpcAddress });
      await client.writeShard({ shardId: shardIdOf('metered'), blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(randomShardBytes(1000, 4), 1000) } });
      await client.readShardToBuffer(shardIdOf('metered'));
      client.close();
      const metrics = await (await fetch(`http://${node.metricsAddress}/metrics`)).text();
      expect(metrics).toContain('storage_node_shard_bytes_written_total 1000');
      expect(metrics).toContain('storage_node_shard_bytes_read_total 1000');
      expect(metrics).toContain('storage_node_shard_operations_total{operation="write",result="ok"} 1');
      expect(metrics).toMatch(/storage_node_disk_free_bytes \d+/);
      expect(metrics).toContain('storage_node_shard_operation_duration_seconds_bucket');
      expect((await fetch(`http://${node.metricsAddress}/health/live`)).status).toBe(200);
      expect((await fetch(`http://${node.metricsAddress}/health/ready`)).status).toBe(200);
      expect((await fetch(`http://${node.metricsAddress}/nope`)).status).toBe(404);
    } finally {
      node.child.kill('SIGTERM');
      await node.exited;
    }
    const impostor = spawn(process.execPath, [mainJs, '--node-id', 'someone-else', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--metrics-listen', ''], { cwd: repoRoot });
    let stderr = '';
    impostor.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise<number | null>((resolve) => impostor.on('exit', resolve))).toBe(1);
    expect(stderr).toContain('belongs to node proc-node');
  });
});
