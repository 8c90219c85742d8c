/**
 * Goal: a repair report made while the metadata group is unreachable is not lost: the gateway
 * keeps it and retries until the group accepts it (then it is in the persistent, replicated
 * repair queue), within a bounded time and a bounded number of waiting stripes. Method: a real
 * MetadataClient aimed at an address where nothing listens yet; after the first report fails, a
 * real single-node metadata group starts on that address, and the item must appear in its
 * queue. A second reporter with a short retry window must give up (nothing kept forever).
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { SeededRandom, silentLogger, systemClock } from '@tessera/common';
import { defaultCatalogueOptions, defaultMetadataNodeTiming, startMetadataNode } from '@tessera/metadata';
import type { RunningMetadataNode } from '@tessera/metadata';
import { MetadataClient } from '@tessera/rpc';
import { RepairReporter } from '../../src/cluster/repair-reporter';
import { reservePort, waitFor } from './cluster-fixture';

jest.setTimeout(60_000);

const stripe = {
  stripeId: 'stripe-repair-reporter-test',
  dataShardCount: 6,
  parityShardCount: 3,
  blockSizeBytes: 1024 * 1024,
  shardNodeIds: ['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c1', 'c2', 'c3'],
  degradedSpread: false,
};

let dir: string;
let node: RunningMetadataNode | undefined;
const clients: MetadataClient[] = [];
const reporters: RepairReporter[] = [];

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tessera-repair-reporter-'));
});

afterEach(async () => {
  for (const reporter of reporters.splice(0)) reporter.stop();
  for (const client of clients.splice(0)) client.close();
  await node?.stop();
  node = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

function unreachableClient(address: string): MetadataClient {
  const client = new MetadataClient({ addresses: [address], attemptCountMax: 1, callTimeoutMs: 500 });
  clients.push(client);
  return client;
}

test('a report that fails while the metadata group is down is retried until it is queued', async () => {
  const address = `127.0.0.1:${await reservePort()}`;
  const reporter = new RepairReporter(unreachableClient(address), systemClock, silentLogger, { retryIntervalMs: 200, retryForMs: 60_000, pendingCountMax: 10 });
  reporters.push(reporter);
  reporter.report(stripe, 'degraded read in a test');
  await waitFor('the first report to fail', async () => (reporter.pendingCount === 1 ? true : undefined), 10_000);

  node = await startMetadataNode(
    { ...defaultMetadataNodeTiming, nodeId: 'meta-1', listenAddress: address, peers: new Map([['meta-1', address]]), dataDir: dir, metricsListenAddress: undefined, tickIntervalMs: 50, join: false, catalogue: defaultCatalogueOptions },
    { clock: systemClock, random: new SeededRandom(7), logger: silentLogger },
  );
  await waitFor('the retried report to be accepted', async () => (reporter.pendingCount === 0 ? true : undefined), 30_000);
  const reader = new MetadataClient({ addresses: [address] });
  clients.push(reader);
  const items = await reader.listQueue(100);
  expect(items.filter((item) => item.kind === 'repairStripe').map((item) => item.stripe?.stripeId)).toEqual([stripe.stripeId]);
});

test('a report is dropped after its retry window, and at most pendingCountMax stripes wait', async () => {
  const address = `127.0.0.1:${await reservePort()}`;
  const reporter = new RepairReporter(unreachableClient(address), systemClock, silentLogger, { retryIntervalMs: 100, retryForMs: 800, pendingCountMax: 2 });
  reporters.push(reporter);
  for (const id of ['s1', 's2', 's3']) reporter.report({ ...stripe, stripeId: id }, 'test');
  await waitFor('two reports waiting (the cap)', async () => (reporter.pendingCount === 2 ? true : undefined), 10_000);
  await waitFor('the reports given up after the retry window', async () => (reporter.pendingCount === 0 ? true : undefined), 15_000);
});
