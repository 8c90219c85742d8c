/**
 * Goal: the operator's stop/start switches (`POST /admin/{heal,scrub}/{stop,start}`, behind
 * `tessera heal|scrub stop|start`) do what they promise against a real cluster, and are
 * reported in /admin/status and /metrics. Method: 3 metadata + 9 storage nodes in process,
 * 4+2 objects written like the gateway does, one healer with its loops running on short
 * intervals and a slow scrub rate (so a pass lasts seconds), driven only through its HTTP
 * endpoint. In order: a scrub pass paused mid-way stays where it is and finishes after start;
 * start on an idle scrubber runs a pass now; with rebuilds paused, a wiped node's missing
 * shards found by the scrubber are queued, not rebuilt, and heal start rebuilds them; with
 * rebuilds paused, a lost node's stripes are counted in the backlog but nothing moves until
 * heal start.
 */
import * as fs from 'node:fs/promises';
import { silentLogger } from '@tessera/common';
import { healerDefaults, startHealer } from '../src/index';
import type { HealerStatus, RunningHealer } from '../src/index';
import { isLoopbackAddress } from '../src/admin-server';
import { randomBody, sha256, startHealerTestCluster, waitFor } from './support/healer-cluster';
import type { HealerTestCluster } from './support/healer-cluster';

jest.setTimeout(120_000);

const bucket = 'pausing';
/** 36 shards of ~25-30 KB: a scrub pass at 200 KB/s takes about 5 s. */
const objectCount = 6;
const scrubRateBytesPerSecond = 200 * 1024;

describe('healer stop/start (admin endpoint, real cluster)', () => {
  let cluster: HealerTestCluster;
  let running: RunningHealer;
  let base = '';
  const expected = new Map<string, string>();

  const status = async (): Promise<HealerStatus> => (await (await fetch(`${base}/admin/status`)).json()) as HealerStatus;
  const post = async (path: string): Promise<HealerStatus> => {
    const response = await fetch(`${base}${path}`, { method: 'POST' });
    expect(response.status).toBe(200);
    return (await response.json()) as HealerStatus;
  };
  const metrics = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();
  const indexedOn = async (nodeId: string): Promise<number> =>
    (await cluster.metadata.listNodeShards({ nodeId, afterStripeId: '', afterShardIndex: 0, limit: 1000 })).shards.length;
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    cluster = await startHealerTestCluster();
    await cluster.metadata.createBucket({ bucket, owner: 'test' });
    for (let i = 0; i < objectCount; i++) {
      const body = randomBody(100_000 + i * 7_000);
      await cluster.putObject(bucket, `obj-${i}`, body);
      expected.set(`obj-${i}`, sha256(body));
    }
    running = await startHealer({
      ...healerDefaults, metadataAddresses: cluster.metadataAddresses, workerId: 'healer-pause-test', nodeLossGraceMs: 500,
      healIntervalMs: 200, rebuildWindowBytes: 32 * 1024, scrubRateBytesPerSecond, scrubPeriodMs: 3_600_000,
      orphanScanIntervalMs: 0, adminListen: '127.0.0.1:0',
    }, { logger: silentLogger });
    base = `http://${running.adminAddress ?? ''}`;
  });

  afterAll(async () => {
    await running?.stop();
    await cluster?.stop();
  });

  async function expectObjectsIntact(): Promise<void> {
    for (const [key, digest] of expected) expect(sha256(await cluster.readObject(bucket, key))).toBe(digest);
  }

  test('scrub stop pauses a pass where it is; scrub start finishes it; start when idle runs a new pass now', async () => {
    // The first pass starts with the healer; catch it mid-way.
    await waitFor('first pass under way', async () => {
      const s = await status();
      return s.scrub.passRunning && s.scrub.shardsVerifiedThisPass >= 3 ? true : undefined;
    });
    const paused = await post('/admin/scrub/stop');
    expect(paused.scrub.paused).toBe(true);
    await sleep(300); // a shard already past the pause check finishes
    const heldAt = (await status()).scrub.shardsVerifiedThisPass;
    await sleep(1_500);
    const held = await status();
    expect({ verified: held.scrub.shardsVerifiedThisPass, running: held.scrub.passRunning, passes: held.scrub.passCount }).toEqual({ verified: heldAt, running: true, passes: 0 });
    expect(heldAt).toBeLessThan(objectCount * 6);
    expect(await metrics()).toMatch(/^healer_paused\{loop="scrub"\} 1$/m);
    expect(await metrics()).toMatch(/^healer_scrub_pass_running 1$/m);

    const resumed = await post('/admin/scrub/start');
    expect(resumed.scrub.paused).toBe(false);
    const first = await waitFor('first pass done', async () => {
      const s = await status();
      return s.scrub.passCount === 1 && !s.scrub.passRunning ? s : undefined;
    });
    expect(first.scrub.shardsLastPass).toBe(objectCount * 6);
    expect(first.scrub.bytesLastPass).toBeGreaterThan(0);
    expect(await metrics()).toMatch(/^healer_paused\{loop="scrub"\} 0$/m);

    // Idle (the next pass is 30 minutes away): start runs one now.
    await post('/admin/scrub/start');
    const second = await waitFor('second pass done', async () => {
      const s = await status();
      return s.scrub.passCount === 2 && !s.scrub.passRunning ? s : undefined;
    });
    expect(second.scrub.shardsLastPass).toBe(objectCount * 6);
    expect(second.scrub.corruptShardsFound).toBe(0);
  });

  test('with rebuilds stopped, shards the scrubber finds missing are queued, and heal start rebuilds them', async () => {
    const stopped = await post('/admin/heal/stop');
    expect(stopped.healPaused).toBe(true);
    expect(await metrics()).toMatch(/^healer_paused\{loop="heal"\} 1$/m);
    // The az-a node holding the most shards: with 4+2 stripes (2 of an AZ's 3 nodes each), a
    // fixed node holds none of the 6 objects once in ~700 runs.
    const candidates = await Promise.all(['az-a-n1', 'az-a-n2', 'az-a-n3'].map(async (nodeId) => ({ nodeId, indexed: await indexedOn(nodeId) })));
    const { nodeId: wiped, indexed } = candidates.reduce((best, next) => (next.indexed > best.indexed ? next : best));
    expect(indexed).toBeGreaterThan(0);
    await cluster.stopStorageNode(wiped);
    await fs.rm(cluster.handle(wiped).dataDir, { recursive: true, force: true });
    await cluster.startStorageNode(wiped);
    const before = await status();
    await post('/admin/scrub/start');
    const scrubbed = await waitFor('pass over the wiped node', async () => {
      const s = await status();
      return s.scrub.passCount === before.scrub.passCount + 1 && !s.scrub.passRunning ? s : undefined;
    }, 30_000);
    expect(scrubbed.scrub.corruptShardsFound - before.scrub.corruptShardsFound).toBe(indexed);
    // Nothing rebuilt while stopped; the repairs wait in the metadata queue.
    await sleep(600);
    expect((await status()).totals.shardsRebuilt).toBe(before.totals.shardsRebuilt);
    expect((await cluster.client(wiped).listShards({ pageSize: 1000 })).shards).toEqual([]);
    const queued = (await cluster.metadata.listQueue(1000)).filter((item) => item.kind === 'repairStripe');
    expect(queued.length).toBeGreaterThan(0);

    const started = await post('/admin/heal/start');
    expect(started.healPaused).toBe(false);
    await waitFor('wiped node refilled', async () => ((await cluster.client(wiped).listShards({ pageSize: 1000 })).shards.length === indexed ? true : undefined), 30_000);
    // A shard file lands on the node (fsync + rename) just before the healer counts it.
    await waitFor('rebuilds counted', async () => ((await status()).totals.shardsRebuilt - before.totals.shardsRebuilt >= indexed ? true : undefined));
    expect((await status()).totals.shardsRebuilt - before.totals.shardsRebuilt).toBe(indexed);
    await expectObjectsIntact();
  });

  test('with rebuilds stopped, a lost node is counted in the backlog but nothing moves until heal start', async () => {
    await post('/admin/heal/stop');
    const lost = 'az-c-n1';
    const held = await indexedOn(lost);
    expect(held).toBeGreaterThan(0);
    const before = await status();
    await cluster.stopStorageNode(lost);
    const counted = await waitFor('backlog counted', async () => {
      const s = await status();
      return s.backlogStripes === held ? s : undefined;
    }, 30_000);
    expect(counted.backlogBytes).toBeGreaterThan(0);
    expect(counted.healPaused).toBe(true);
    await sleep(1_000); // several 200 ms rounds
    expect((await status()).totals.stripesRebuilt).toBe(before.totals.stripesRebuilt);
    expect(await indexedOn(lost)).toBe(held);
    expect(await metrics()).toMatch(/^healer_backlog_stripes [1-9]/m);

    await post('/admin/heal/start');
    await waitFor('lost node emptied', async () => ((await indexedOn(lost)) === 0 ? true : undefined), 30_000);
    const after = await waitFor('backlog zero', async () => {
      const s = await status();
      return s.backlogStripes === 0 ? s : undefined;
    });
    expect(after.totals.stripesRebuilt - before.totals.stripesRebuilt).toBe(held);
    expect(after.backlogBytes).toBe(0);
    await expectObjectsIntact();
  });

  test('bad requests: unknown loop or action is 404; only loopback peers may change the healer', async () => {
    expect((await fetch(`${base}/admin/orphans/stop`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/admin/heal/pause`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/admin/heal/stop`)).status).toBe(404);
    // This machine has only loopback, so the peer check is tested on the address classifier.
    expect(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'].map(isLoopbackAddress)).toEqual([true, true, true, true]);
    expect(['10.0.0.7', '172.18.0.1', '::ffff:10.1.2.3', 'fe80::1', '', undefined].map(isLoopbackAddress)).toEqual([false, false, false, false, false, false]);
  });
});
