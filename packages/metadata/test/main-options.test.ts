// Goal: the composition root resolves settings as documented (flags > TESSERA_* env > config
// file > defaults) and refuses bad combinations at startup; a single node serves /metrics and
// the health endpoints. Method: call optionsFromArgs with crafted argv/env/config files, and
// start one real node (a one-member group elects itself) with an HTTP listener on port 0.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionsFromArgs } from '../src/main';
import { validateMetadataNodeOptions } from '../src/metadata-node';
import { reservePorts, startInProcessNode, testNodeOptions, waitFor } from './cluster-helpers';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-meta-main-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('flags beat env, env beats the config file, the file beats defaults', async () => {
  const configPath = join(dir, 'config.json');
  await writeFile(configPath, JSON.stringify({ 'tick-interval-ms': 30, 'election-timeout-ticks': 20, 'data-dir': '/from-file', 'snapshot-every-entries': 7 }));
  const options = optionsFromArgs(
    ['--node-id', 'm1', '--listen=127.0.0.1:1', '--peers', 'm1=127.0.0.1:1,m2=127.0.0.1:2', '--config', configPath, '--tick-interval-ms', '40'],
    { TESSERA_TICK_INTERVAL_MS: '35', TESSERA_ELECTION_TIMEOUT_TICKS: '15', TESSERA_DATA_DIR: '/from-env' },
  );
  expect(options.tickIntervalMs).toBe(40);
  expect(options.electionTimeoutTicks).toBe(15);
  expect(options.dataDir).toBe('/from-env');
  expect(options.snapshotEveryEntryCount).toBe(7);
  expect(options.heartbeatIntervalTicks).toBe(1);
  expect([...options.peers.entries()]).toEqual([['m1', '127.0.0.1:1'], ['m2', '127.0.0.1:2']]);
});

test('missing and invalid settings are refused with a reason', () => {
  expect(() => optionsFromArgs(['--listen', 'x:1'], {})).toThrow(/--node-id/);
  expect(() => optionsFromArgs(['--bogus', '1'], {})).toThrow(/unknown flag/);
  const options = optionsFromArgs(['--node-id', 'm9', '--listen', 'x:1', '--peers', 'm1=x:1', '--data-dir', '/d'], {});
  expect(() => validateMetadataNodeOptions(options)).toThrow(/must include this node/);
  expect(() => validateMetadataNodeOptions({ ...options, nodeId: 'm1', requestTimeoutMs: 10 })).toThrow(/two election timeouts/);
});

test('one node: elects itself, serves /metrics and /health', async () => {
  const [port] = await reservePorts(1);
  const peers = new Map([['solo', `127.0.0.1:${port ?? 0}`]]);
  const node = await startInProcessNode(testNodeOptions('solo', peers, join(dir, 'solo'), { metricsListenAddress: '127.0.0.1:0' }), 1);
  try {
    const base = `http://127.0.0.1:${node.metricsPort ?? 0}`;
    expect(await (await fetch(`${base}/health/live`)).text()).toBe('ok');
    await waitFor('ready', async () => ((await fetch(`${base}/health/ready`)).status === 200 ? true : undefined));
    await node.host.propose({ type: 'createBucket', bucket: 'solo-bucket', owner: 'o', createdAtMs: 1 });
    await node.host.propose({
      type: 'commitVersion', writeId: undefined, bucket: 'solo-bucket', key: 'k', versionId: 'v1', sizeBytes: 3, etag: '0123456789abcdef0123456789abcdef',
      checksums: {}, contentType: '', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', createdAtMs: 2, stripe: undefined, inlineData: Buffer.from('abc'),
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    // Catalogue counters, read at scrape time.
    expect(metrics).toMatch(/metadata_bucket_objects\{bucket="solo-bucket"\} 1/);
    expect(metrics).toMatch(/metadata_bucket_object_bytes\{bucket="solo-bucket"\} 3/);
    expect(metrics).toMatch(/^metadata_objects 1$/m);
    expect(metrics).toMatch(/^metadata_multipart_uploads 0$/m);
    expect(metrics).toMatch(/metadata_raft_is_leader 1/);
    expect(metrics).toMatch(/metadata_raft_leader_info\{leader_id="solo"\} 1/);
    expect(metrics).toMatch(/metadata_raft_proposals_total\{result="committed"\} 2/);
    expect(metrics).toMatch(/metadata_raft_applied_index [1-9]/);
  } finally {
    await node.stop();
  }
});
