// Goal: a metadata node whose Raft log write fails (here: its disk is full) stops serving,
// reports it (the fatal hook the process uses to exit and be restarted; the host's failure),
// and a restart on the same directory, once there is room again, recovers every committed write.
// Method: a real single-node group (real LevelDB, real gRPC) on a real 16 MiB tmpfs that a
// filler file then fills; skipped with a message where mount is not permitted.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunningMetadataNode } from '../src/metadata-node';
import { startMetadataNode } from '../src/metadata-node';
import { SeededRandom, silentLogger, systemClock } from '@tessera/common';
import { reservePorts, testNodeOptions, waitFor } from './cluster-helpers';

describe('fail-stop on a failed Raft log write', () => {
  let mountDir: string | undefined;
  let skipReason: string | undefined;
  beforeAll(async () => {
    mountDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tessera-meta-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountDir], { stdio: 'pipe' });
    } catch (err) {
      skipReason = `cannot mount a tmpfs here (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); the fail-stop test is skipped`;
      console.warn(skipReason);
    }
  });
  afterAll(async () => {
    if (mountDir === undefined) return;
    if (skipReason === undefined) execFileSync('umount', [mountDir]);
    await fs.rm(mountDir, { recursive: true, force: true });
  });

  test('ENOSPC on a write: the fatal hook fires once, requests are refused; a restart after freeing space keeps every committed write', async () => {
    if (skipReason !== undefined || mountDir === undefined) {
      console.warn(`skipped: ${skipReason ?? 'no mount dir'}`);
      return;
    }
    const [port] = await reservePorts(2);
    const peers = new Map([['meta-1', `127.0.0.1:${port}`]]);
    const dataDir = path.join(mountDir, 'meta-1');
    const fatal: Error[] = [];
    const start = (): Promise<RunningMetadataNode> =>
      startMetadataNode(testNodeOptions('meta-1', peers, dataDir), {
        clock: systemClock, random: new SeededRandom(7), logger: silentLogger, onFatal: (err) => fatal.push(err),
      });
    let node = await start();
    try {
      await waitFor('a leader', () => (node.host.leaderId() === 'meta-1' ? true : undefined));
      const committed: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        await node.host.propose({ type: 'createBucket', bucket: `before-full-${i}`, owner: 'TKROOT', createdAtMs: Date.now() });
        committed.push(`before-full-${i}`);
      }
      // Someone else takes the rest of the disk.
      const filler = path.join(mountDir, 'filler');
      await fs.writeFile(filler, Buffer.alloc(0));
      const handle = await fs.open(filler, 'a');
      try {
        for (;;) await handle.write(Buffer.alloc(256 * 1024, 1));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        await handle.close();
      }
      // Writes until the log's next write fails (LevelDB may still have room in its open log file).
      let refused: unknown;
      for (let i = 0; i < 2_000 && refused === undefined; i += 1) {
        await node.host
          .propose({ type: 'createBucket', bucket: `while-full-${i}-${'x'.repeat(40)}`.slice(0, 63), owner: 'TKROOT', createdAtMs: Date.now() })
          .then(() => committed.push(`while-full-${i}-${'x'.repeat(40)}`.slice(0, 63)), (err: unknown) => (refused = err));
      }
      expect(refused).toBeDefined();
      await waitFor('the fatal hook', () => (fatal.length > 0 ? true : undefined));
      expect(fatal).toHaveLength(1);
      expect(String(fatal[0])).toMatch(/No space left on device|ENOSPC/);
      expect(node.host.failure).toBe(fatal[0]);
      // Refused as a stopping node (503-class for the gateway, whose client tries another node).
      await expect(node.host.propose({ type: 'createBucket', bucket: 'after-failure', owner: 'TKROOT', createdAtMs: Date.now() })).rejects.toThrow('metadata node stopping');
      await node.stop().catch(() => undefined);

      // Room again: a restart replays the log and has every write that was acknowledged.
      await fs.rm(filler);
      node = await start();
      await waitFor('a leader after the restart', () => (node.host.leaderId() === 'meta-1' ? true : undefined));
      await node.host.linearizableRead();
      const buckets = new Set((await node.host.machine.listBuckets()).map((b) => b.name));
      for (const bucket of committed) expect(buckets.has(bucket)).toBe(true);
      expect(fatal).toHaveLength(1);
    } finally {
      await node.stop().catch(() => undefined);
    }
  }, 60_000);
});
