// Goal: the image and deploy/docker-compose.yml run a real Tessera cluster: 3 metadata nodes,
// 9 storage nodes over 3 zones and 2 gateways come up healthy, S3 objects written through one
// gateway read back byte-identical through both, and still do after a storage node is stopped.
// Method: build the image with deploy/docker/build-image.sh (offline: host node_modules), start
// the compose file under a project name unique to this run with free 127.0.0.1 ports and fresh
// keys, drive it with the AWS SDK, compare SHA-256 digests, then `down -v` and remove the image.
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
  const compose = (args: string[], timeoutMs: number) => run('docker-compose', ['-p', project, '-f', composeFile, ...args], { env: composeEnv, timeoutMs });

  beforeAll(async () => {
    for (const role of ['gateway', 'metadata', 'storage-node']) {
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
      await waitFor(async () => (await projectContainers(project)).filter((c) => c.service.startsWith('gateway-') && c.health === 'healthy').length === 2, 60_000);
      timings.push(['compose up until both gateways are healthy', Date.now() - upStartedMs]);
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

  test('all 14 containers are healthy, each in its zone, and only the gateways publish a port', async () => {
    const containers = await projectContainers(project);
    expect(containers.map((c) => [c.service, c.status, c.health]).sort()).toEqual(
      ['gateway-1', 'gateway-2', 'meta-1', 'meta-2', 'meta-3', ...['a', 'b', 'c'].flatMap((z) => [1, 2, 3].map((n) => `storage-${z}${n}`))].map((s) => [s, 'running', 'healthy']).sort(),
    );
    // meta-N and gateway-N sit in the N-th zone; storage-xN in zone az-x.
    const zoneOf = (service: string): string => `az-${service.startsWith('storage-') ? service.charAt('storage-'.length) : 'abc'.charAt(Number(service.slice(-1)) - 1)}`;
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
    await compose(['stop', '-t', '10', 'storage-b2'], 60_000);
    const stopped = (await projectContainers(project)).find((c) => c.service === 'storage-b2');
    // Exit code 0, not 137: the node handled SIGTERM and stopped within the grace period.
    expect({ status: stopped?.status, exitCode: stopped?.exitCode }).toEqual({ status: 'exited', exitCode: 0 });
    const startedMs = Date.now();
    await expectAllObjectsReadable();
    timings.push(['read all objects through both gateways, storage-b2 stopped', Date.now() - startedMs]);
  }, 180_000);

  test('every metric the Grafana dashboard queries is exported by a running node', async () => {
    const exported = new Set<string>();
    // The metrics ports are not published: read them from inside each container.
    const fetchMetrics = "require('http').get('http://127.0.0.1:9090/metrics',r=>r.pipe(process.stdout)).on('error',e=>{console.error(e.message);process.exit(1)})";
    for (const service of ['gateway-1', 'meta-1', 'storage-a1']) {
      for (const name of exportedMetricNames((await compose(['exec', '-T', service, 'node', '-e', fetchMetrics], 30_000)).stdout)) exported.add(name);
    }
    const used = dashboardMetricNames(loadDashboard());
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });

  async function expectAllObjectsReadable(): Promise<void> {
    for (const client of clients) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([...expectedDigests.keys()].sort());
      for (const [key, digest] of expectedDigests) {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const body = await response.Body!.transformToByteArray();
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
