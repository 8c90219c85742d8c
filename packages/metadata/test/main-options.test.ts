// Goal: the composition root resolves settings as documented (flags > TESSERA_* env > config
// file > defaults), refuses bad settings and combinations at startup with a one-line reason
// (never a stack trace), answers --help; a single node serves /metrics and the health
// endpoints. Method: call resolveMetadataNodeConfig with crafted argv/env/config files, run
// the built main.js as a process for --help and bad flags, and start one real node (a
// one-member group elects itself) with an HTTP listener on port 0.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetadataConfigError, resolveMetadataNodeConfig } from '../src/config';
import { validateMetadataNodeOptions } from '../src/metadata-node';
import { reservePorts, startInProcessNode, testNodeOptions, waitFor } from './cluster-helpers';

function optionsFromArgs(argv: readonly string[], env: Record<string, string>) {
  return resolveMetadataNodeConfig(argv, env, (path) => readFileSync(path, 'utf8'));
}

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
    { TESSERA_TICK_INTERVAL_MS: '35', TESSERA_ELECTION_TIMEOUT_TICKS: '15', TESSERA_DATA_DIR: '/from-env', TESSERA_SNAPSHOT_EVERY_LOG_BYTES: '65536' },
  );
  expect(options.join).toBe(false);
  expect(options.logLevel).toBe('info');
  expect(options.tickIntervalMs).toBe(40);
  expect(options.electionTimeoutTicks).toBe(15);
  expect(options.dataDir).toBe('/from-env');
  expect(options.snapshotEveryEntryCount).toBe(7);
  expect(options.snapshotEveryLogBytes).toBe(65_536);
  expect(options.heartbeatIntervalTicks).toBe(2);
  expect([...options.peers.entries()]).toEqual([['m1', '127.0.0.1:1'], ['m2', '127.0.0.1:2']]);
});

test('missing and invalid settings are refused with a reason', async () => {
  const base = ['--node-id', 'm1', '--listen', 'x:1', '--peers', 'm1=x:1', '--data-dir', '/d'];
  expect(() => optionsFromArgs(['--listen', 'x:1'], {})).toThrow(/--node-id \(or TESSERA_NODE_ID\) is required/);
  expect(() => optionsFromArgs(['--bogus', '1'], {})).toThrow(/unknown flag --bogus/);
  expect(() => optionsFromArgs(['stray'], {})).toThrow(/unexpected argument "stray"/);
  expect(() => optionsFromArgs([...base, '--tick-interval-ms'], {})).toThrow(/--tick-interval-ms needs a value/);
  expect(() => optionsFromArgs([...base, '--tick-interval-ms', '1.5'], {})).toThrow(/--tick-interval-ms: "1.5" must be a positive integer/);
  expect(() => optionsFromArgs(base, { TESSERA_SUSPECT_AFTER_MS: 'soon' })).toThrow(/--suspect-after-ms: "soon" must be a positive integer/);
  expect(() => optionsFromArgs([...base, '--log-level', 'loud'], {})).toThrow(/--log-level/);
  expect(() => optionsFromArgs([...base, '--listen', 'nohost'], {})).toThrow(/--listen: "nohost" must be host:port/);
  expect(() => optionsFromArgs(['--node-id', 'm1', '--listen', 'x:1', '--peers', 'm1=x:1,m1=x:2', '--data-dir', '/d'], {})).toThrow(/names m1 twice/);
  expect(() => optionsFromArgs(['--node-id', 'm1', '--listen', 'x:1', '--peers', 'm1', '--data-dir', '/d'], {})).toThrow(/id=host:port/);
  expect(() => optionsFromArgs([...base, '--join', 'maybe'], {})).toThrow(/--join/);
  expect(optionsFromArgs([...base, '--join'], {}).join).toBe(true);
  expect(optionsFromArgs([...base, '--join', '--log-level', 'warn'], {})).toMatchObject({ join: true, logLevel: 'warn' });
  expect(optionsFromArgs(base, { TESSERA_JOIN: 'true' }).join).toBe(true);
  const badFile = join(dir, 'bad.json');
  await writeFile(badFile, JSON.stringify({ 'tick-interval': 5 }));
  expect(() => optionsFromArgs([...base, '--config', badFile], {})).toThrow(/unknown key "tick-interval"/);
  await writeFile(badFile, '{ not json');
  expect(() => optionsFromArgs([...base, '--config', badFile], {})).toThrow(/not valid JSON/);
  expect(() => optionsFromArgs([...base, '--config', join(dir, 'absent.json')], {})).toThrow(MetadataConfigError);
  const options = optionsFromArgs(['--node-id', 'm9', '--listen', 'x:1', '--peers', 'm1=x:1', '--data-dir', '/d'], {});
  expect(() => validateMetadataNodeOptions(options)).toThrow(/must include this node/);
  expect(() => validateMetadataNodeOptions({ ...options, nodeId: 'm1', requestTimeoutMs: 10 })).toThrow(/two election timeouts/);
});

test('the process answers --help, and a bad setting with one line and exit code 2', () => {
  const mainJs = join(__dirname, '..', 'dist', 'main.js');
  const help = spawnSync(process.execPath, [mainJs, '--help'], { encoding: 'utf8', timeout: 20_000 });
  expect(help.status).toBe(0);
  expect(help.stdout).toMatch(/^Usage: node packages\/metadata\/dist\/main.js/);
  for (const flag of ['--node-id', '--peers', '--heartbeat-interval-ticks', '--suspect-after-ms', '--join', '--config']) expect(help.stdout).toContain(flag);
  const bad = spawnSync(process.execPath, [mainJs, '--node-id', 'm1', '--bogus', '1'], { encoding: 'utf8', timeout: 20_000 });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toBe('metadata node: unknown flag --bogus\nRun with --help for the options.\n');
  const contradictory = spawnSync(process.execPath, [mainJs, '--node-id', 'm9', '--listen', '127.0.0.1:1', '--peers', 'm1=127.0.0.1:1', '--data-dir', join(dir, 'never')], { encoding: 'utf8', timeout: 20_000 });
  expect(contradictory.status).toBe(2);
  expect(contradictory.stderr).toMatch(/^metadata node: invalid metadata node options: --peers must include this node \(m9\)\n/);
  expect(contradictory.stderr).not.toMatch(/\n\s+at /);
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
