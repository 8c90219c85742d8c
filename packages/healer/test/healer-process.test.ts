/**
 * Goal: the healer binary heals on its own. Method: a real in-process cluster; spawn
 * `dist/main.js` (requires `npx tsc -b packages/healer` first) with a 1 s grace period, stop
 * a storage node that holds shards (placement is random: a fixed node may hold none, and then
 * nothing is rebuilt), and wait until the node → shard index no longer places anything on it
 * and every object decodes identically; read /admin/status; SIGTERM exits 0. A failed wait
 * shows the healer's log.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { randomBody, sha256, startHealerTestCluster, waitFor } from './support/healer-cluster';
import type { HealerTestCluster } from './support/healer-cluster';

jest.setTimeout(120_000);

const mainPath = path.join(__dirname, '..', 'dist', 'main.js');

describe('healer process', () => {
  let cluster: HealerTestCluster;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    cluster = await startHealerTestCluster();
  });
  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    await cluster?.stop();
  });

  test('rebuilds a lost node by itself, serves status, exits 0 on SIGTERM', async () => {
    await cluster.metadata.createBucket({ bucket: 'proc', owner: 'test' });
    const expected = new Map<string, string>();
    const placedNodeIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const body = randomBody(100_000 + i * 37_000);
      const stripe = await cluster.putObject('proc', `o${i}`, body);
      placedNodeIds.push(...stripe.shardNodeIds);
      expected.set(`o${i}`, sha256(body));
    }
    const victimNodeId = placedNodeIds[0] ?? '';
    const placedOnVictim = placedNodeIds.filter((nodeId) => nodeId === victimNodeId).length;
    child = spawn(process.execPath, [mainPath, '--metadata', cluster.metadataAddresses.join(','), '--metrics-listen', '127.0.0.1:0',
      '--node-loss-grace-ms', '1000', '--heal-interval-ms', '300', '--scrub-period-ms', '60000', '--orphan-safety-delay-ms', '60000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = readline.createInterface({ input: child.stdout! });
    const healerLog: string[] = [];
    readline.createInterface({ input: child.stderr! }).on('line', (line) => healerLog.push(line));
    const withHealerLog = async <T>(wait: Promise<T>): Promise<T> => wait.catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\nhealer log:\n${healerLog.join('\n')}`);
    });
    const listening = await new Promise<{ metricsAddress: string }>((resolve, reject) => {
      lines.once('line', (line) => resolve(JSON.parse(line) as { metricsAddress: string }));
      child?.once('exit', (code) => reject(new Error(`healer exited ${code}`)));
    });
    const shardsOnVictim = async (): Promise<number> =>
      (await cluster.metadata.listNodeShards({ nodeId: victimNodeId, afterStripeId: '', afterShardIndex: 0, limit: 100 })).shards.length;
    expect(await shardsOnVictim()).toBe(placedOnVictim);
    await cluster.stopStorageNode(victimNodeId);
    await withHealerLog(waitFor(`${victimNodeId} emptied`, async () => ((await shardsOnVictim()) === 0 ? true : undefined), 60_000));
    for (const [key, digest] of expected) expect(sha256(await cluster.readObject('proc', key))).toBe(digest);
    // A stripe's index entry moves at its commit; the rebuild is counted once it has also removed
    // the old copies, which on the stopped node may take until the storage call's deadline.
    const rebuilt = await withHealerLog(waitFor('every rebuild counted in /admin/status', async () => {
      const status = (await (await fetch(`http://${listening.metricsAddress}/admin/status`)).json()) as { totals: { stripesRebuilt: number } };
      return status.totals.stripesRebuilt >= placedOnVictim ? status.totals.stripesRebuilt : undefined;
    }, 30_000));
    expect(rebuilt).toBe(placedOnVictim);
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
