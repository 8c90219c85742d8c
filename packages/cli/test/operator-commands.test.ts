// Goal: the operator and S3 commands work against a real cluster, as a user runs them: `tessera`
// is started as a child process (status --json with object counters, node drain/undrain/add/
// remove incl. a forced removal whose node logs the refusal of its heartbeats, bucket, cp, ls,
// rm), objects round-trip byte-exact through the CLI, the AWS SDK and the `aws` CLI (SHA-256
// compared), and failures are one-line messages with non-zero exit codes (port in use, data
// dir locked, no cluster); heal and scrub read and steer the cluster's healer. Method: one LocalCluster on free loopback
// ports in a temp data dir whose tessera.json carries the port plan, so the CLI finds it with
// --data-dir alone.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetBucketAclCommand, GetObjectCommand, ListObjectsV2Command, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { defaultClusterLayoutOptions, LocalCluster, loadOrCreateRootKeys, planCluster } from '@tessera/local-cluster';
import type { RootCredentials } from '@tessera/local-cluster';
import type { StatusReport } from '@tessera/cli';
import { findFreePortBlock } from '@tessera/rpc';
import { requireBuilt, runTessera, until } from './helpers';

// The SDK's Node 22 notice would clutter the test output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

describe('tessera operator and S3 commands (real cluster, real child processes)', () => {
  let dataDir: string;
  let workDir: string;
  let cluster: LocalCluster;
  let credentials: RootCredentials;
  let endpoint: string;
  let ports: { gatewayPort: number; metadataPortBase: number; storagePortBase: number; metricsPortBase: number };
  const quiet = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const tessera = (...args: string[]) => runTessera([...args, '--data-dir', dataDir], quiet);

  beforeAll(async () => {
    requireBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-cli-'));
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-cli-work-'));
    const base = await findFreePortBlock('127.0.0.1', 40);
    ports = { gatewayPort: base, metadataPortBase: base + 1, storagePortBase: base + 5, metricsPortBase: base + 15 };
    fs.writeFileSync(path.join(dataDir, 'tessera.json'), JSON.stringify(ports));
    const layoutOptions = { ...defaultClusterLayoutOptions, ...ports, dataDir };
    const layout = planCluster(layoutOptions);
    credentials = loadOrCreateRootKeys(layout.keysPath, {}).credentials;
    endpoint = layout.s3Endpoint;
    cluster = new LocalCluster({
      ...layoutOptions, region: 'us-east-1', rootCredentials: credentials, baseEnv: { PATH: process.env['PATH'] }, logLevel: 'info',
      healthCheckIntervalMs: 250, gatewayMode: 'required', healerMode: 'if-built', nodeExecPath: process.execPath,
      restartPolicy: { restartBackoffMsBase: 200, restartBackoffMsMax: 2_000, stableAfterMs: 10_000, stopGraceMs: 5_000 },
    });
    await cluster.start();
    await cluster.waitReady(60_000);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(workDir, { recursive: true, force: true });
  }, 60_000);

  test('status --json: three metadata nodes, a leader, nine storage nodes up in three zones', async () => {
    const report = await until(async () => {
      const result = await tessera('status', '--json');
      if (result.exitCode !== 0) return undefined;
      const parsed = JSON.parse(result.stdout) as StatusReport;
      const up = parsed.storage.nodes.filter((n) => n.state === 'up').length;
      return parsed.metadata.leaderId !== null && up === 9 ? parsed : undefined;
    }, 30_000, 'a leader and 9 storage nodes up');
    expect(report.metadata.nodes.map((n) => n.reachable)).toEqual([true, true, true]);
    expect(['meta-1', 'meta-2', 'meta-3']).toContain(report.metadata.leaderId);
    expect(report.metadata.term).toBeGreaterThan(0);
    expect(report.metadata.commitIndex).toBeGreaterThan(0);
    expect(report.storage.byZone).toEqual({ 'az-a': { up: 3 }, 'az-b': { up: 3 }, 'az-c': { up: 3 } });
    expect(report.storage.capacityBytes).toBeGreaterThan(0);
    // No bucket yet: the catalogue counters are there and zero (not n/a).
    expect([report.objectCount, report.objectBytes, report.multipartUploadCount, report.buckets]).toEqual([0, 0, 0, []]);
    expect(report.stripesBelowFullRedundancy).toBe(0);
  }, 40_000);

  test('status (human): leader line, storage table by zone, object counters', async () => {
    const result = await tessera('status');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Metadata: leader meta-\d \(127\.0\.0\.1:\d+\), term \d+, commit index \d+/);
    expect(result.stdout).toMatch(/ZONE\s+NODE\s+STATE\s+ADDRESS\s+CAPACITY\s+FREE\s+SHARDS\s+HEARTBEAT/);
    expect(result.stdout).toContain('Objects: 0, bytes: 0 B, multipart uploads in progress: 0');
  });

  test('bucket mb / cp up / ls / cp down / rm / bucket rb through the CLI, byte-exact', async () => {
    const original = crypto.randomBytes(1024 * 1024 + 123);
    const source = path.join(workDir, 'upload.bin');
    fs.writeFileSync(source, original);
    expect(await tessera('bucket', 'mb', 'cli-bucket')).toMatchObject({ exitCode: 0, stdout: 'make_bucket: cli-bucket\n' });
    const listed = await tessera('bucket', 'ls', '--json');
    expect((JSON.parse(listed.stdout) as { buckets: Array<{ name: string }> }).buckets.map((b) => b.name)).toContain('cli-bucket');
    expect((await tessera('cp', source, 's3://cli-bucket/dir/')).stdout).toContain('upload: ');
    const objects = JSON.parse((await tessera('ls', 's3://cli-bucket/dir/', '--json')).stdout) as { objects: Array<{ key: string; sizeBytes: number }> };
    expect(objects.objects).toEqual([expect.objectContaining({ key: 'dir/upload.bin', sizeBytes: original.length })]);
    // The nodes' shard bytes (data and parity, 9/6 of the object plus headers and block
    // checksums) reach status with their next heartbeats, from the leader's memory.
    const stored = await until(async () => {
      const report = JSON.parse((await tessera('status', '--json')).stdout) as StatusReport;
      return report.storage.storedBytes >= (original.length * 9) / 6 ? report.storage : undefined;
    }, 15_000, 'the uploaded shards in status');
    expect(stored.storedBytes).toBeLessThan(original.length * 2);
    expect(stored.nodes.every((n) => n.freeBytes > 0 && n.freeBytes <= n.capacityBytes)).toBe(true);
    const nodeList = await tessera('node', 'ls');
    expect(nodeList.stdout).toMatch(/NODE\s+ZONE\s+STATE\s+ADDRESS\s+CAPACITY\s+FREE\s+SHARDS/);
    expect((await tessera('ls', 's3://cli-bucket')).stdout).toMatch(/PRE\s+dir\//);
    const target = path.join(workDir, 'download.bin');
    expect((await tessera('cp', 's3://cli-bucket/dir/upload.bin', target)).exitCode).toBe(0);
    expect(sha256(fs.readFileSync(target))).toBe(sha256(original));
    expect((await tessera('rm', 's3://cli-bucket/dir/upload.bin')).exitCode).toBe(0);
    expect((await tessera('ls', 's3://cli-bucket/dir/')).stdout).toBe('no objects\n');
    expect(await tessera('bucket', 'rb', 'cli-bucket')).toMatchObject({ exitCode: 0, stdout: 'remove_bucket: cli-bucket\n' });
    const missing = await tessera('cp', 's3://cli-bucket/nothing', target);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/^tessera: NoSuchBucket: /);
  }, 60_000);

  test('AWS SDK round trip: 5 MiB object, SHA-256 equal', async () => {
    const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
    try {
      const original = crypto.randomBytes(5 * 1024 * 1024);
      expect((await tessera('bucket', 'mb', 'sdk-bucket')).exitCode).toBe(0);
      await client.send(new PutObjectCommand({ Bucket: 'sdk-bucket', Key: 'blob', Body: original }));
      const got = await client.send(new GetObjectCommand({ Bucket: 'sdk-bucket', Key: 'blob' }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      expect(sha256(bytes)).toBe(sha256(original));
    } finally {
      client.destroy();
    }
  }, 60_000);

  test('status counts objects, bytes and open multipart uploads per bucket, as listings see them', async () => {
    const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
    try {
      expect((await tessera('bucket', 'mb', 'count-bucket')).exitCode).toBe(0);
      const sizes = [0, 1, 4096, 200_000, 1_500_000];
      for (const [i, size] of sizes.entries()) await client.send(new PutObjectCommand({ Bucket: 'count-bucket', Key: `k${i}`, Body: crypto.randomBytes(size) }));
      await client.send(new PutObjectCommand({ Bucket: 'count-bucket', Key: 'k1', Body: crypto.randomBytes(10) })); // overwrite: 1 -> 10 bytes
      await client.send(new DeleteObjectCommand({ Bucket: 'count-bucket', Key: 'k2' }));
      await client.send(new CreateMultipartUploadCommand({ Bucket: 'count-bucket', Key: 'pending' }));
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'count-bucket' }));
      const listedBytes = (listed.Contents ?? []).reduce((sum, o) => sum + (o.Size ?? 0), 0);
      expect([listed.KeyCount, listedBytes]).toEqual([4, 0 + 10 + 200_000 + 1_500_000]);
      const report = JSON.parse((await tessera('status', '--json')).stdout) as StatusReport;
      expect(report.buckets?.find((b) => b.bucket === 'count-bucket')).toEqual({ bucket: 'count-bucket', objectCount: 4, objectBytes: listedBytes, multipartUploadCount: 1, noncurrentVersionCount: 0, noncurrentVersionBytes: 0, deleteMarkerCount: 0 });
      expect(report.objectCount).toBe(report.buckets?.reduce((sum, b) => sum + b.objectCount, 0));
      const human = (await tessera('status')).stdout;
      expect(human).toMatch(/BUCKET\s+OBJECTS\s+BYTES\s+UPLOADS/);
      expect(human).toMatch(/count-bucket\s+4\s+1\.6 MiB\s+1/);
      // A versioned bucket: overwritten versions and delete markers are counted apart.
      expect((await tessera('bucket', 'mb', 'kept-versions')).exitCode).toBe(0);
      await client.send(new PutBucketVersioningCommand({ Bucket: 'kept-versions', VersioningConfiguration: { Status: 'Enabled' } }));
      for (const size of [100, 2000, 30]) await client.send(new PutObjectCommand({ Bucket: 'kept-versions', Key: 'doc', Body: crypto.randomBytes(size) }));
      await client.send(new PutObjectCommand({ Bucket: 'kept-versions', Key: 'gone', Body: crypto.randomBytes(5) }));
      await client.send(new DeleteObjectCommand({ Bucket: 'kept-versions', Key: 'gone' }));
      const versioned = JSON.parse((await tessera('status', '--json')).stdout) as StatusReport;
      expect(versioned.buckets?.find((b) => b.bucket === 'kept-versions'))
        .toEqual({ bucket: 'kept-versions', objectCount: 1, objectBytes: 30, multipartUploadCount: 0, noncurrentVersionCount: 3, noncurrentVersionBytes: 2105, deleteMarkerCount: 1 });
      expect((await tessera('status')).stdout).toMatch(/kept-versions\s+1\s+30 B\s+0\s+3\s+2\.1 KiB\s+1/);
    } finally {
      client.destroy();
    }
  }, 60_000);

  test('aws CLI round trip: s3 cp up, s3 ls, s3 cp down, SHA-256 equal', async () => {
    const probe = spawnSync('aws', ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.warn('aws CLI not installed: skipping the aws CLI round trip');
      return;
    }
    const env = { ...process.env, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    const aws = (...args: string[]) => spawnSync('aws', ['--endpoint-url', endpoint, ...args], { encoding: 'utf8', env, timeout: 60_000 });
    const original = crypto.randomBytes(3 * 1024 * 1024 + 7);
    const source = path.join(workDir, 'aws-up.bin');
    const target = path.join(workDir, 'aws-down.bin');
    fs.writeFileSync(source, original);
    expect(aws('s3', 'mb', 's3://aws-bucket').status).toBe(0);
    const up = aws('s3', 'cp', source, 's3://aws-bucket/x/aws-up.bin');
    expect(up.stderr).toBe('');
    expect(up.status).toBe(0);
    const ls = aws('s3', 'ls', 's3://aws-bucket/x/');
    expect(ls.stdout).toMatch(new RegExp(`\\s${original.length} aws-up\\.bin`));
    expect(aws('s3', 'cp', 's3://aws-bucket/x/aws-up.bin', target).status).toBe(0);
    expect(sha256(fs.readFileSync(target))).toBe(sha256(original));
  }, 90_000);

  test('key create / allow / ls / deny / rm: a second key owns its bucket, a read grant lets a third key read it, not write; an existing pair is imported', async () => {
    const created = await tessera('key', 'create', 'team-a', '--json');
    expect(created.exitCode).toBe(0);
    const teamA = JSON.parse(created.stdout) as { accessKeyId: string; secretAccessKey: string };
    const reader = JSON.parse((await tessera('key', 'create', 'reader', '--no-create-bucket', '--json')).stdout) as { accessKeyId: string; secretAccessKey: string };
    const clientOf = (key: { accessKeyId: string; secretAccessKey: string }): S3Client => new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: key });
    const teamClient = clientOf(teamA);
    const readerClient = clientOf(reader);
    try {
      const original = crypto.randomBytes(700 * 1024);
      await teamClient.send(new CreateBucketCommand({ Bucket: 'team-a-bucket' }));
      await teamClient.send(new PutObjectCommand({ Bucket: 'team-a-bucket', Key: 'data.bin', Body: original }));
      const readerGet = async (): Promise<string> => {
        try {
          const got = await readerClient.send(new GetObjectCommand({ Bucket: 'team-a-bucket', Key: 'data.bin' }));
          return sha256(Buffer.from(await got.Body!.transformToByteArray()));
        } catch (error) {
          return (error as Error).name;
        }
      };
      expect(await readerGet()).toBe('AccessDenied');
      expect(await tessera('key', 'allow', reader.accessKeyId, 'team-a-bucket', '--read', '--read-acp')).toMatchObject({ exitCode: 0, stdout: `${reader.accessKeyId}: read+read-acp in team-a-bucket (gateways apply it within 5 s)\n` });
      // The gateway (its own process) picks the grant up within its 5 s cache.
      expect(await until(async () => ((await readerGet()) === sha256(original) ? true : undefined), 15_000, 'the read grant at the gateway')).toBe(true);
      // READ_ACP: the reader sees the bucket's ACL, its own grant in it.
      const acl = await readerClient.send(new GetBucketAclCommand({ Bucket: 'team-a-bucket' }));
      expect((acl.Grants ?? []).map((grant) => `${grant.Grantee?.ID}:${grant.Permission}`)).toEqual([`${teamA.accessKeyId}:FULL_CONTROL`, `${reader.accessKeyId}:READ`, `${reader.accessKeyId}:READ_ACP`]);
      await expect(readerClient.send(new PutObjectCommand({ Bucket: 'team-a-bucket', Key: 'nope', Body: 'x' }))).rejects.toMatchObject({ name: 'AccessDenied' });
      await expect(readerClient.send(new CreateBucketCommand({ Bucket: 'reader-bucket' }))).rejects.toMatchObject({ name: 'AccessDenied' });
      const listed = await tessera('key', 'ls');
      expect(listed.stdout).toMatch(new RegExp(`^${teamA.accessKeyId}\\s+team-a\\s.*\\syes\\s+team-a-bucket\\s+-$`, 'm'));
      expect(listed.stdout).toMatch(new RegExp(`^${reader.accessKeyId}\\s+reader\\s.*\\sno\\s+-\\s+team-a-bucket:read\\+read-acp$`, 'm'));
      expect(listed.stdout).not.toContain(teamA.secretAccessKey);
      expect((await tessera('key', 'deny', reader.accessKeyId, 'team-a-bucket')).exitCode).toBe(0);
      expect(await until(async () => ((await readerGet()) === 'AccessDenied' ? true : undefined), 15_000, 'the grant taken back at the gateway')).toBe(true);
      const refused = await tessera('key', 'rm', teamA.accessKeyId);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain(`access key ${teamA.accessKeyId} owns buckets: team-a-bucket`);
      expect((await tessera('key', 'rm', reader.accessKeyId)).exitCode).toBe(0);
      // An existing key pair imported as it is (an application moving from another store); the secret only through the environment.
      const moved = { accessKeyId: 'AKIAMOVEDAPP00000001', secretAccessKey: 'moved/app+secret/0123456789abcdefghijkl' };
      expect((await runTessera(['key', 'create', 'moved', '--access-key-id', moved.accessKeyId, '--data-dir', dataDir], quiet)).exitCode).toBe(2);
      const imported = await runTessera(['key', 'create', 'moved', '--access-key-id', moved.accessKeyId, '--data-dir', dataDir], { ...quiet, TESSERA_KEY_SECRET: moved.secretAccessKey });
      expect(imported.exitCode).toBe(0);
      expect(imported.stdout).not.toContain(moved.secretAccessKey);
      const movedClient = clientOf(moved);
      try {
        await movedClient.send(new CreateBucketCommand({ Bucket: 'moved-app-bucket' }));
        await movedClient.send(new PutObjectCommand({ Bucket: 'moved-app-bucket', Key: 'k', Body: original }));
        const back = await movedClient.send(new GetObjectCommand({ Bucket: 'moved-app-bucket', Key: 'k' }));
        expect(sha256(Buffer.from(await back.Body!.transformToByteArray()))).toBe(sha256(original));
      } finally {
        movedClient.destroy();
      }
      expect((await runTessera(['key', 'create', 'again', '--access-key-id', moved.accessKeyId, '--data-dir', dataDir], { ...quiet, TESSERA_KEY_SECRET: moved.secretAccessKey })).exitCode).toBe(1);
      expect((await tessera('key', 'allow', teamA.accessKeyId)).exitCode).toBe(2);
      expect((await tessera('key', 'ls', '--read')).exitCode).toBe(0);
      expect((await tessera('node', 'ls', '--read')).exitCode).toBe(2);
    } finally {
      teamClient.destroy();
      readerClient.destroy();
    }
  }, 90_000);

  test('encryption status / rotate: an SSE-S3 object written before a rotation still reads byte-exact after it, and new ones use the new key', async () => {
    const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
    try {
      expect((await tessera('bucket', 'mb', 'sse-bucket')).exitCode).toBe(0);
      const before = crypto.randomBytes(300_000);
      await client.send(new PutObjectCommand({ Bucket: 'sse-bucket', Key: 'before', Body: before, ServerSideEncryption: 'AES256' }));
      const status = JSON.parse((await tessera('encryption', '--json')).stdout) as { keys: { keyId: string; current: boolean }[] };
      expect(status.keys.filter((key) => key.current)).toHaveLength(1);
      const rotated = await tessera('encryption', 'rotate', '--json');
      expect(rotated.exitCode).toBe(0);
      const newKeyId = (JSON.parse(rotated.stdout) as { keyId: string }).keyId;
      const text = await tessera('encryption', 'status');
      expect(text.stdout).toContain(`${newKeyId}`);
      expect(text.stdout).toContain('retired (opens what it sealed)');
      const got = await client.send(new GetObjectCommand({ Bucket: 'sse-bucket', Key: 'before' }));
      expect([sha256(Buffer.from(await got.Body!.transformToByteArray())), got.ServerSideEncryption]).toEqual([sha256(before), 'AES256']);
      expect(await tessera('encryption', 'spin')).toMatchObject({ exitCode: 2 });
    } finally {
      client.destroy();
    }
  }, 60_000);

  test('node drain / undrain / add / remove through the metadata service', async () => {
    const drained = await tessera('node', 'drain', 'storage-az-a-1', '--json');
    expect(drained.exitCode).toBe(0);
    expect((JSON.parse(drained.stdout) as { node: { state: string } }).node.state).toBe('draining');
    expect((await tessera('node', 'undrain', 'storage-az-a-1')).stdout).toBe('storage-az-a-1: up\n');
    const added = await tessera('node', 'add', 'storage-extra', '--zone', 'az-b', '--address', '127.0.0.1:1', '--capacity-bytes', '1000000');
    expect(added).toMatchObject({ exitCode: 0, stdout: 'registered storage-extra in az-b at 127.0.0.1:1: up\n' });
    // It holds no shards: removed (forgotten) at once, no --force needed.
    const removed = await tessera('node', 'remove', 'storage-extra', '--json');
    expect(JSON.parse(removed.stdout)).toEqual({ removed: { nodeId: 'storage-extra', shardCount: 0, forgotten: true } });
    const list = await tessera('node', 'ls');
    expect(list.stdout).not.toMatch(/^storage-extra\s/m);
    expect(list.stdout).toContain('removed (re-add with tessera node add): storage-extra');
    expect((await tessera('node', 'add', 'x')).exitCode).toBe(2);
  }, 60_000);

  test('node remove: refused while the node holds shards; --force has the healer rebuild it at once, then it is forgotten; its heartbeats are refused (logged) until node add', async () => {
    const victim = 'storage-az-b-2';
    // The objects written above are striped over all nine nodes, so the victim holds shards.
    const refused = await tessera('node', 'remove', victim);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^tessera: node ${victim} still holds \\d+ shards; drain it first \\(tessera node drain ${victim}\\) and wait for the healer \\(or --force if its disk is gone\\)\n$`));
    const nodes = (JSON.parse((await tessera('node', 'ls', '--json')).stdout) as { nodes: Array<{ nodeId: string; address: string; state: string }> }).nodes;
    const address = nodes.find((n) => n.nodeId === victim)?.address ?? '';
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);

    const forced = JSON.parse((await tessera('node', 'remove', victim, '--force', '--json')).stdout) as { removed: { shardCount: number; forgotten: boolean } };
    expect(forced.removed.forgotten).toBe(false);
    expect(forced.removed.shardCount).toBeGreaterThan(0);
    // The node process still runs and heartbeats: refused, with the reason in its own log.
    const logPath = path.join(dataDir, 'logs', `${victim}.log`);
    await until(() => (fs.existsSync(logPath) && fs.readFileSync(logPath, 'utf8').includes(`storage node ${victim} was removed from the cluster`) ? true : undefined), 20_000, 'the refusal in the node log');
    // Forced removal means the disk is gone: the healer rebuilds its shards at once (no node-loss
    // grace period). Until then it is listed down (removed, rebuilding); once no shard is placed
    // there the leader forgets it, and it stays listed among the removed nodes.
    const rebuildingRow = new RegExp(`${victim}\\s+az-b\\s+down \\(removed, rebuilding\\)`);
    const removedLine = new RegExp(`^removed \\(re-add with tessera node add\\): .*\\b${victim}\\b`, 'm');
    const listing = (await tessera('node', 'ls')).stdout;
    expect(rebuildingRow.test(listing) || removedLine.test(listing)).toBe(true);
    await until(async () => {
      const now = (await tessera('node', 'ls')).stdout;
      return removedLine.test(now) && !rebuildingRow.test(now) ? true : undefined;
    }, 60_000, `${victim}'s shards rebuilt by the healer and the node forgotten`);

    // Operator re-add: the node's own registration and heartbeats are accepted again, and it is up.
    const readded = await tessera('node', 'add', victim, '--zone', 'az-b', '--address', address);
    expect(readded.exitCode).toBe(0);
    await until(async () => {
      const report = JSON.parse((await tessera('status', '--json')).stdout) as StatusReport;
      const node = report.storage.nodes.find((n) => n.nodeId === victim);
      return node?.state === 'up' && node.capacityBytes > 0 && node.lastHeartbeatAgeMs < 5_000 ? true : undefined;
    }, 20_000, `${victim} up again after node add`);
    expect((await tessera('node', 'ls')).stdout).toMatch(new RegExp(`${victim}\\s+az-b\\s+up\\s`));
  }, 150_000);

  test('heal shows the healer backlog and sets its rebuild rate; scrub shows scrub progress', async () => {
    const heal = await tessera('heal', '--json');
    expect(heal.exitCode).toBe(0);
    const status = JSON.parse(heal.stdout) as { backlogStripes: number; rebuildRateLimitBytesPerSecond: number; workerId: string };
    expect(status.workerId).toBe('healer');
    expect(status.backlogStripes).toBeGreaterThanOrEqual(0);
    const human = await tessera('heal');
    expect(human.stdout).toMatch(/backlog\s+\d+ stripes/);

    const faster = await tessera('heal', '--rate', '50MiB', '--json');
    expect(faster.exitCode).toBe(0);
    expect((JSON.parse(faster.stdout) as { rebuildRateLimitBytesPerSecond: number }).rebuildRateLimitBytesPerSecond).toBe(50 * 1024 * 1024);
    expect(await tessera('heal', '--rate', 'fast')).toMatchObject({ exitCode: 1 });

    const scrub = await tessera('scrub', '--json');
    expect(scrub.exitCode).toBe(0);
    const scrubStatus = JSON.parse(scrub.stdout) as { passCount: number; corruptShardsFound: number };
    expect(scrubStatus.corruptShardsFound).toBe(0);
    expect(scrubStatus.passCount).toBeGreaterThanOrEqual(0);

    const unreachable = await tessera('heal', '--healer', '127.0.0.1:1');
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(/^tessera: cannot reach the healer at 127\.0\.0\.1:1/);
  });

  test('a second launcher on this data directory: one line, exit 1', async () => {
    const result = await tessera('start');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^tessera: data directory .* is in use by another tessera launcher \(pid \d+\): stop it first or use another --data-dir\n$/);
  });

  test('a port in use: one line naming the port and the option, nothing spawned', async () => {
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-cli-port-'));
    try {
      const base = await findFreePortBlock('127.0.0.1', 40);
      const result = await runTessera(['start', '--data-dir', otherDir, '--metadata-port-base', String(base + 1), '--storage-port-base', String(base + 5),
        '--metrics-port-base', String(base + 15), '--gateway-port', String(ports.gatewayPort)], quiet);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(`tessera: port 127.0.0.1:${ports.gatewayPort} (gateway) is already in use: stop whatever listens there or change it with --gateway-port\n`);
      expect(fs.readdirSync(path.join(otherDir, 'logs'))).toEqual([]);
      expect(fs.existsSync(path.join(otherDir, 'launcher.lock'))).toBe(false);
    } finally {
      fs.rmSync(otherDir, { recursive: true, force: true });
    }
  }, 30_000);

  test('no cluster at the given addresses: a clear error, exit 1; unknown command: exit 2', async () => {
    const base = await findFreePortBlock('127.0.0.1', 3);
    const result = await runTessera(['status', '--metadata', `127.0.0.1:${base},127.0.0.1:${base + 1}`], quiet);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^tessera: no metadata node answered at 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+ .*is the cluster running\? \(--metadata\)\n$/);
    expect((await runTessera(['frobnicate'])).exitCode).toBe(2);
    expect((await runTessera(['status', '--bogus', '1'])).stderr).toContain('unknown flag --bogus');
  }, 30_000);
});
