/**
 * Committed metadata writes per second through a 3-node Raft group: three real processes of
 * dist/main.js on loopback, LevelDB with fsync on every Ready (entries + hard state in one
 * synced batch), driven by MetadataClient with N concurrent writers. Concurrency is where the
 * batching shows: all proposals that arrive while a Ready is being persisted share one fsync.
 *
 *   node packages/metadata/dist/bench/raft-writes.js [--seconds 5] [--concurrency 1,16,128]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePortBlock, MetadataClient } from '@tessera/rpc';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

async function waitForLeader(client: MetadataClient, addresses: readonly string[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const statuses = await Promise.all(addresses.map((a) => client.getClusterStatus(a).catch(() => undefined)));
    if (statuses.some((s) => s?.role === 'leader')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no leader');
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '5'));
  const concurrencies = arg('concurrency', '1,16,128').split(',').map(Number);
  const root = await mkdtemp(join(tmpdir(), 'tessera-bench-raft-'));
  const peers = new Map<string, string>();
  for (let i = 1; i <= 3; i++) peers.set(`meta-${i}`, `127.0.0.1:${await findFreePortBlock('127.0.0.1', 1)}`);
  const peerList = [...peers.entries()].map(([id, a]) => `${id}=${a}`).join(',');
  const mainJs = join(__dirname, '..', 'main.js');
  const children: ChildProcess[] = [...peers.keys()].map((id) =>
    spawn(process.execPath, [mainJs, '--node-id', id, '--listen', peers.get(id) ?? '', '--peers', peerList, '--data-dir', join(root, id),
      '--tick-interval-ms', '50', '--log-level', 'warn'], { stdio: 'ignore' }));
  const client = new MetadataClient({ addresses: [...peers.values()], callTimeoutMs: 10_000 });
  const rows: string[] = [];
  try {
    await waitForLeader(client, [...peers.values()]);
    await client.createBucket({ bucket: 'bench', owner: 'bench' });
    let sequence = 0;
    for (const concurrency of concurrencies) {
      const latenciesMs: number[] = [];
      const endAt = performance.now() + seconds * 1000;
      const worker = async (): Promise<void> => {
        while (performance.now() < endAt) {
          const began = performance.now();
          await client.commitVersion({ bucket: 'bench', key: `key-${sequence++}`, sizeBytes: 1, etag: '0123456789abcdef0123456789abcdef', inlineData: Buffer.from('x') });
          latenciesMs.push(performance.now() - began);
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: concurrency }, worker));
      const elapsedS = (performance.now() - started) / 1000;
      latenciesMs.sort((a, b) => a - b);
      rows.push(`| ${concurrency} | ${(latenciesMs.length / elapsedS).toFixed(0)} | ${percentile(latenciesMs, 0.5).toFixed(1)} | ${percentile(latenciesMs, 0.99).toFixed(1)} |`);
    }
  } finally {
    client.close();
    for (const child of children) child.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  }
  console.log(`Committed writes (CommitVersion, inline 1-byte object) through a 3-process Raft group, fsync on, ${seconds} s per row:\n`);
  console.log('| concurrent writers | committed writes/s | p50 ms | p99 ms |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
}

void main();
