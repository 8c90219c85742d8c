// Goal: the image and deploy/docker-compose.yml run a real Tessera cluster: 3 metadata nodes,
// 9 storage nodes over 3 zones, 2 gateways and the healer come up healthy, S3 objects written
// through one gateway read back byte-identical through both, and still do after a storage node
// is stopped; when that node comes back with an empty volume, the healer (steered with the
// `tessera` CLI inside its container) rebuilds every shard it held, and a second scrub pass
// finds nothing wrong.
// Method: build the image with deploy/docker/build-image.sh (offline: host node_modules), start
// the compose file under a project name unique to this run with free 127.0.0.1 ports and fresh
// keys, drive it with the AWS SDK, compare SHA-256 digests, wipe the volume with a throwaway
// container (no network), then `down -v` and remove the image. Every wait is bounded.
// Skipped, with the reason printed, when no Docker engine (or docker-compose) is reachable.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { dashboardMetricNames, exportedMetricNames, loadDashboard } from './support/dashboard';
import { dockerUnavailableReason, freeLoopbackPort, projectContainers, run } from './support/docker';
import { deployDir, repoRoot } from './support/repo';

const unavailable = dockerUnavailableReason();
if (unavailable !== undefined) console.log(`docker-cluster.test.ts skipped: ${unavailable}`);

const composeFile = path.join(deployDir, 'docker-compose.yml');
const suffix = `${process.pid}-${randomBytes(3).toString('hex')}`;
// The `tessera-test-` prefix lets .ci/setup-system.sh sweep what a crashed run leaves behind.
const project = `tessera-test-${suffix}`;
const imageTag = `tessera:test-${suffix}`;
const accessKeyId = `test${randomBytes(6).toString('hex')}`;
const secretAccessKey = randomBytes(24).toString('base64url');
const bucket = 'deploy-test';
const startupTimeoutMs = 240_000;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const fetchMetrics = "require('http').get('http://127.0.0.1:9090/metrics',r=>r.pipe(process.stdout)).on('error',e=>{console.error(e.message);process.exit(1)})";

/** The parts of the healer's /admin/status (`tessera heal --json`) this test reads. */
interface HealerStatusJson {
  healRoundCount: number;
  backlogStripes: number;
  backlogBytes: number;
  totals: { shardsRebuilt: number };
  scrub: { corruptShardsFound: number; passCount: number };
}

/** Objects of several shapes: empty, inline-small, multi-block, multipart, non-ASCII key. */
const objects = new Map<string, Buffer>([
  ['empty', Buffer.alloc(0)],
  ['small.txt', Buffer.from('hello from the tessera compose cluster\n'.repeat(30))],
  ['medium.bin', randomBytes(3 * 1024 * 1024 + 17)],
  ['dir/ünïcödé key (1).bin', randomBytes(64 * 1024)],
]);
const multipartKey = 'multipart.bin';
const multipartBody = randomBytes(11 * 1024 * 1024 + 5);
const expectedDigests = new Map<string, string>([...[...objects].map(([key, body]): [string, string] => [key, sha256(body)]), [multipartKey, sha256(multipartBody)]]);

(unavailable === undefined ? describe : describe.skip)('docker-compose cluster (deploy/docker-compose.yml)', () => {
  let contextDir = '';
  /** Wall-clock phases, printed at the end for the README (information, not assertions). */
  const timings: Array<[string, number]> = [];
  let composeEnv: NodeJS.ProcessEnv = {};
  let gatewayPorts: number[] = [];
  const clients: S3Client[] = [];
  /** Shard files storage-b2 held before it was stopped (and, later, wiped). */
  let shardFilesOnB2 = 0;
  const compose = (args: string[], timeoutMs: number) => run('docker-compose', ['-p', project, '-f', composeFile, ...args], { env: composeEnv, timeoutMs });

  beforeAll(async () => {
    for (const role of ['gateway', 'metadata', 'storage-node', 'healer', 'cli']) {
      if (!fs.existsSync(path.join(repoRoot, 'packages', role, 'dist', 'main.js'))) throw new Error(`packages/${role}/dist/main.js is missing: run \`npm run build\` first`);
    }
    contextDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'tessera-image-context-'));
    const buildStartedMs = Date.now();
    await run(path.join(deployDir, 'docker', 'build-image.sh'), ['--no-compile', '--tag', imageTag], { env: { TESSERA_IMAGE_CONTEXT: contextDir }, timeoutMs: 180_000 });
    timings.push(['build-image.sh --no-compile (stage + docker build)', Date.now() - buildStartedMs]);
    gatewayPorts = [await freeLoopbackPort(), await freeLoopbackPort()];
    composeEnv = {
      TESSERA_IMAGE: imageTag,
      TESSERA_GATEWAY_1_PORT: String(gatewayPorts[0]),
      TESSERA_GATEWAY_2_PORT: String(gatewayPorts[1]),
      TESSERA_ROOT_ACCESS_KEY: accessKeyId,
      TESSERA_ROOT_SECRET_KEY: secretAccessKey,
    };
    try {
      // compose 1.29 waits for each dependency to be healthy before starting its dependants;
      // the gateways come last, so we only have to wait for them afterwards.
      const upStartedMs = Date.now();
      await compose(['up', '-d'], startupTimeoutMs);
      await waitFor(async () => (await projectContainers(project)).filter((c) => (c.service.startsWith('gateway-') || c.service === 'healer') && c.health === 'healthy').length === 3, 60_000);
      timings.push(['compose up until both gateways and the healer are healthy', Date.now() - upStartedMs]);
    } catch (err) {
      const logs = await compose(['logs', '--no-color', '--tail', '20'], 30_000).catch((e: unknown) => ({ stdout: String(e) }));
      throw new Error(`cluster did not come up: ${String(err)}\n${logs.stdout}`);
    }
    for (const port of gatewayPorts) {
      clients.push(new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 }));
    }
  }, startupTimeoutMs + 200_000);

  afterAll(async () => {
    if (timings.length > 0) console.log(['| phase | ms |', '|---|---:|', ...timings.map(([phase, ms]) => `| ${phase} | ${ms} |`)].join('\n'));
    for (const client of clients) client.destroy();
    if (Object.keys(composeEnv).length > 0) await compose(['down', '-v', '--remove-orphans', '-t', '5'], 120_000).catch((err: unknown) => console.error(String(err)));
    await run('docker', ['rmi', '-f', imageTag], { timeoutMs: 60_000 }).catch(() => undefined);
    if (contextDir !== '') await fs.promises.rm(contextDir, { recursive: true, force: true });
  }, 180_000);

  test('all 15 containers are healthy, each in its zone, and only the gateways publish a port', async () => {
    const containers = await projectContainers(project);
    expect(containers.map((c) => [c.service, c.status, c.health]).sort()).toEqual(
      ['gateway-1', 'gateway-2', 'healer', 'meta-1', 'meta-2', 'meta-3', ...['a', 'b', 'c'].flatMap((z) => [1, 2, 3].map((n) => `storage-${z}${n}`))].map((s) => [s, 'running', 'healthy']).sort(),
    );
    // meta-N and gateway-N sit in the N-th zone; storage-xN in zone az-x; the healer in none.
    const zoneOf = (service: string): string | undefined =>
      service === 'healer' ? undefined : `az-${service.startsWith('storage-') ? service.charAt('storage-'.length) : 'abc'.charAt(Number(service.slice(-1)) - 1)}`;
    for (const c of containers) expect({ service: c.service, zone: c.zone }).toEqual({ service: c.service, zone: zoneOf(c.service) });
    const published = containers.filter((c) => c.publishedPorts.length > 0).map((c) => [c.service, c.publishedPorts]);
    expect(published.sort()).toEqual([
      ['gateway-1', [`127.0.0.1:${gatewayPorts[0]}`]],
      ['gateway-2', [`127.0.0.1:${gatewayPorts[1]}`]],
    ]);
    expect((await compose(['port', 'gateway-1', '9000'], 30_000)).stdout.trim()).toBe(`127.0.0.1:${gatewayPorts[0]}`);
  });

  test('S3 round trip: objects PUT through gateway-1 read back SHA-256-identical through both gateways', async () => {
    const [gateway1] = clients;
    await gateway1!.send(new CreateBucketCommand({ Bucket: bucket }));
    const writeStartedMs = Date.now();
    for (const [key, body] of objects) await gateway1!.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await new Upload({ client: gateway1!, params: { Bucket: bucket, Key: multipartKey, Body: multipartBody }, partSize: 5 * 1024 * 1024, queueSize: 2 }).done();
    timings.push(['write 5 objects (14.1 MiB, one multipart) through gateway-1', Date.now() - writeStartedMs]);
    const startedMs = Date.now();
    await expectAllObjectsReadable();
    timings.push(['read all objects through both gateways, all nodes up', Date.now() - startedMs]);
  }, 180_000);

  test('a stopped storage node loses nothing: every object still reads back identical', async () => {
    shardFilesOnB2 = await shardFileCount('storage-b2');
    expect(shardFilesOnB2).toBeGreaterThan(0);
    // The compose file's own stop_grace_period (30 s), as an operator's `docker-compose stop` gets:
    // the node's shutdown grace for open streams is 10 s, so a shorter docker timeout races it.
    const stopStartedMs = Date.now();
    await compose(['stop', 'storage-b2'], 90_000);
    const stopMs = Date.now() - stopStartedMs;
    const stopped = (await projectContainers(project)).find((c) => c.service === 'storage-b2');
    // Exit code 0, not 137: the node handled SIGTERM and stopped within the grace period.
    if (stopped?.status !== 'exited' || stopped.exitCode !== 0) {
      const logs = (await compose(['logs', '--no-color', '--tail', '15', 'storage-b2'], 30_000)).stdout;
      throw new Error(`storage-b2 did not stop cleanly after ${stopMs} ms: ${stopped?.status} exit ${stopped?.exitCode}\n${logs}`);
    }
    timings.push(['docker-compose stop storage-b2 (SIGTERM to exit 0)', stopMs]);
    const startedMs = Date.now();
    await expectAllObjectsReadable();
    timings.push(['read all objects through both gateways, storage-b2 stopped', Date.now() - startedMs]);
  }, 180_000);

  test('the node back with an empty volume is refilled by the healer, steered with the tessera CLI in its container', async () => {
    const startedMs = Date.now();
    // The reads with storage-b2 stopped were degraded, so the gateways queued repairs; the healer
    // drains them (nothing to move: b2 is within its grace period). Two complete rounds later
    // the queue is empty, and every rebuild from here on is b2's refill.
    const queued = JSON.parse(await tesseraInHealer('heal', '--json')) as HealerStatusJson;
    let before = queued;
    await waitFor(async () => {
      before = JSON.parse(await tesseraInHealer('heal', '--json')) as HealerStatusJson;
      return before.healRoundCount >= queued.healRoundCount + 2;
    }, 60_000);
    // Wipe storage-b2's volume (it is stopped) from a throwaway container with no network.
    const b2 = (await projectContainers(project)).find((c) => c.service === 'storage-b2');
    const [volume] = (await run('docker', ['inspect', '-f', '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Name}}{{end}}{{end}}', b2?.name ?? 'storage-b2'], { timeoutMs: 30_000 })).stdout.trim().split('\n');
    expect(volume).toMatch(/storage-b2-data$/);
    const wiped = await run('docker', ['run', '--rm', '--network', 'none', '-v', `${volume}:/data`, imageTag, 'sh', '-c', "find /data -mindepth 1 -delete && find /data -type f | wc -l"], { timeoutMs: 60_000 });
    expect(wiped.stdout.trim()).toBe('0');
    // Counted before the node starts: once it is up, repairs the healer deferred while it was
    // down (its shards missing from degraded reads) may refill some of it at once.
    await compose(['start', 'storage-b2'], 60_000);
    await waitFor(async () => (await projectContainers(project)).some((c) => c.service === 'storage-b2' && c.health === 'healthy'), 60_000);

    // Rebuilds paused: reported by the CLI and in the healer's metrics; then running again.
    expect((await tesseraInHealer('heal', 'stop')).split('\n')[0]).toBe('rebuilds paused');
    expect(await healerMetrics()).toMatch(/^healer_paused\{loop="heal"\} 1$/m);
    expect((await tesseraInHealer('heal', 'start')).split('\n')[0]).toBe('rebuilds running');
    expect(await healerMetrics()).toMatch(/^healer_paused\{loop="heal"\} 0$/m);

    // The wiped node's shards are missing, which the scrubber finds (the node is up; deferred
    // repairs may have rebuilt some already): a pass now,
    // watched to its end. A pass ends early (the watch exits 1, naming the error) when a node
    // does not answer, e.g. while the healer's gRPC channel to the restarted node is still in
    // reconnect backoff; `scrub start` runs a new one. Bounded retries.
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 6 && (await shardFileCount('storage-b2')) < shardFilesOnB2; attempt++) {
      const outcome = await tesseraInHealer('scrub', 'start', '--watch', '--json', '--interval-ms', '250').then(
        (out) => out.trim().split('\n').pop() ?? '', (err: unknown) => String(err).split('\n').filter((line) => line.startsWith('stdout: ') || line.startsWith('{') || line.startsWith('tessera:')).slice(-1).join(' ') || String(err).slice(0, 300));
      outcomes.push(outcome);
      if (!outcome.includes('"failure"') && outcome.includes('"finished":true')) continue;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    }
    const healerLogs = async (): Promise<string> => (await compose(['logs', '--no-color', '--tail', '15', 'healer'], 30_000)).stdout;
    if ((await shardFileCount('storage-b2')) !== shardFilesOnB2) throw new Error(`storage-b2 not refilled; passes: ${outcomes.join('\n')}\n${await healerLogs()}`);
    console.log(`scrub passes until storage-b2 was refilled:\n${outcomes.join('\n')}`);
    // Nothing left to heal; the healer's own account matches the files.
    const watched = (await tesseraInHealer('heal', '--watch')).trim().split('\n');
    expect(watched[watched.length - 1]).toMatch(/100% .* backlog 0 stripes  full redundancy$/);
    const after = JSON.parse(await tesseraInHealer('heal', '--json')) as HealerStatusJson;
    expect({ backlogStripes: after.backlogStripes, backlogBytes: after.backlogBytes }).toEqual({ backlogStripes: 0, backlogBytes: 0 });
    // Every wiped shard was rebuilt, found by the scrubber or by a deferred repair (a shard both
    // reach may be written twice, to the same file name).
    expect(after.totals.shardsRebuilt - before.totals.shardsRebuilt).toBeGreaterThanOrEqual(shardFilesOnB2);
    expect(after.scrub.corruptShardsFound - before.scrub.corruptShardsFound).toBeLessThanOrEqual(shardFilesOnB2);
    // A second pass verifies every block checksum, the rebuilt shards' included: nothing bad.
    await tesseraInHealer('scrub', 'start', '--watch', '--json', '--interval-ms', '250');
    expect((JSON.parse(await tesseraInHealer('scrub', '--json')) as HealerStatusJson['scrub']).corruptShardsFound).toBe(after.scrub.corruptShardsFound);
    timings.push([`storage-b2 (${shardFilesOnB2} shard files) wiped, restarted, refilled; two scrub passes`, Date.now() - startedMs]);
    await expectAllObjectsReadable();
  }, 240_000);

  test('every metric the Grafana dashboard queries is exported by a running node', async () => {
    const exported = new Set<string>();
    // The metrics ports are not published: read them from inside each container.
    for (const service of ['gateway-1', 'meta-1', 'storage-a1', 'healer']) {
      for (const name of exportedMetricNames((await compose(['exec', '-T', service, 'node', '-e', fetchMetrics], 30_000)).stdout)) exported.add(name);
    }
    const used = dashboardMetricNames(loadDashboard());
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });

  /** Shard files in a storage container's /data. */
  async function shardFileCount(service: string): Promise<number> {
    return Number((await compose(['exec', '-T', service, 'sh', '-c', "find /data -type f -name '*.shard' | wc -l"], 30_000)).stdout.trim());
  }

  /** The `tessera` CLI in the healer's container: heal/scrub default to that healer, on loopback. */
  async function tesseraInHealer(...args: string[]): Promise<string> {
    return (await compose(['exec', '-T', 'healer', 'tessera', ...args], 120_000)).stdout;
  }

  async function healerMetrics(): Promise<string> {
    return (await compose(['exec', '-T', 'healer', 'node', '-e', fetchMetrics], 30_000)).stdout;
  }

  async function expectAllObjectsReadable(): Promise<void> {
    for (const client of clients) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([...expectedDigests.keys()].sort());
      for (const [key, digest] of expectedDigests) {
        const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key })).then(
          (response) => response.Body!.transformToByteArray(),
          (err: unknown) => { throw new Error(`GET ${key} through gateway-${clients.indexOf(client) + 1} failed: ${String(err)}`); },
        );
        expect({ key, digest: sha256(body) }).toEqual({ key, digest });
      }
    }
  }
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
