// Shared fixtures for the storage-node tests: a real node on 127.0.0.1:0 with its data in a
// fresh temp directory, a real gRPC client, seeded random shard bytes, and cleanup.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { SeededRandom } from '@tessera/common';
import { StorageNodeClient, type StorageShardId } from '@tessera/rpc';
import { type StorageNodeOptions, StorageNodeServer, shardFilePath } from '../src/index';

export interface NodeFixture {
  readonly node: StorageNodeServer;
  readonly client: StorageNodeClient;
  readonly dataDir: string;
  close(): Promise<void>;
}

export async function makeTempDir(prefix = 'tessera-sn-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function startNodeFixture(overrides: Partial<StorageNodeOptions> = {}): Promise<NodeFixture> {
  const dataDir = overrides.dataDir ?? (await makeTempDir());
  const node = new StorageNodeServer({ nodeId: 'test-node', zone: 'test-zone', dataDir, listen: '127.0.0.1:0', shutdownGraceMs: 2_000, ...overrides });
  await node.start();
  const client = new StorageNodeClient({ address: node.grpcAddress, unaryTimeoutMs: 10_000, streamTimeoutMs: 60_000 });
  return {
    node,
    client,
    dataDir,
    async close() {
      client.close();
      await node.stop();
      if (overrides.dataDir === undefined) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function randomShardBytes(sizeBytes: number, seed: number): Buffer {
  const bytes = Buffer.alloc(sizeBytes);
  new SeededRandom(seed).fillBytes(bytes);
  return bytes;
}

/** Yields `bytes` in chunks of `chunkSizeBytes` (an unaligned size exercises the splitter). */
export async function* chunksOf(bytes: Buffer, chunkSizeBytes: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += chunkSizeBytes) yield bytes.subarray(offset, offset + chunkSizeBytes);
}

export function shardIdOf(objectVersionId: string, shardIndex = 0): StorageShardId {
  return { objectVersionId, shardIndex };
}

/** `count` shard ids (`<prefix><n>`, index 0) whose files share one leaf fan-out directory. */
export function shardIdsInOneLeaf(prefix: string, count: number): StorageShardId[] {
  const byLeaf = new Map<string, StorageShardId[]>();
  for (let n = 0; ; n += 1) {
    const shardId = shardIdOf(`${prefix}${n}`);
    const leaf = path.dirname(shardFilePath('', shardId));
    const ids = [...(byLeaf.get(leaf) ?? []), shardId];
    if (ids.length === count) return ids;
    byLeaf.set(leaf, ids);
  }
}

/** All files under `dir`, recursively, relative paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.relative(dir, path.join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

export async function expectRejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** Polls `condition` every 20 ms until it holds, or throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A real tmpfs of `size` (mount's syntax, e.g. "3m") mounted for the describe block that calls
 * this: `dir()` is its mount point, or undefined with `skipReason()` set where mount is refused
 * (the caller's tests then skip with a message).
 */
export function useTmpfs(size: string, prefix: string): { dir(): string | undefined; skipReason(): string | undefined } {
  let mountDir: string | undefined;
  let skipReason: string | undefined;
  beforeAll(async () => {
    mountDir = await makeTempDir(prefix);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mountDir], { stdio: 'pipe' });
    } catch (err) {
      skipReason = `cannot mount a tmpfs here (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); skipped`;
      console.warn(skipReason);
    }
  });
  afterAll(async () => {
    if (mountDir === undefined) return;
    if (skipReason === undefined) execFileSync('umount', [mountDir]);
    await fs.rm(mountDir, { recursive: true, force: true });
  });
  return { dir: () => (skipReason === undefined ? mountDir : undefined), skipReason: () => skipReason };
}
