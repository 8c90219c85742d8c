/**
 * Goal: the `aws` CLI (v1, its defaults: flexible checksums, multipart above 8 MiB) works
 * unmodified against the gateway on a real erasure-coded cluster. Method: run `aws s3 cp` up
 * and down, `aws s3 ls`, `aws s3 sync` both ways and `aws s3 rm --recursive` as child
 * processes against a cluster (3 metadata + 9 storage nodes + gateway) started in this file;
 * files compared by SHA-256. Skipped with a message when `aws` is not installed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterAccessKeyId, clusterSecretAccessKey, startTestCluster } from './cluster-fixture';
import type { TestCluster } from './cluster-fixture';

jest.setTimeout(120_000);

function cliAvailable(): boolean {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

const available = cliAvailable();
if (!available) console.warn('cluster-aws-cli.test.ts: the `aws` CLI is not installed; skipping the AWS CLI cluster tests.');
const describeCli = available ? describe : describe.skip;
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describeCli('aws CLI against a cluster gateway', () => {
  let cluster: TestCluster;
  let workDir: string;

  function aws(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        'aws',
        ['--endpoint-url', cluster.gateway.endpoint, '--region', 'us-east-1', ...args],
        {
          timeout: 120_000,
          env: {
            PATH: process.env['PATH'] ?? '',
            HOME: workDir,
            AWS_ACCESS_KEY_ID: clusterAccessKeyId,
            AWS_SECRET_ACCESS_KEY: clusterSecretAccessKey,
            AWS_CONFIG_FILE: join(workDir, 'no-config'),
            AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-credentials'),
            AWS_EC2_METADATA_DISABLED: 'true',
          },
        },
        (error, stdout, stderr) => (error === null ? resolve(stdout) : reject(new Error(`aws ${args.join(' ')} failed: ${stderr}`))),
      );
    });
  }

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'tessera-cluster-cli-'));
    cluster = await startTestCluster();
    await aws('s3', 'mb', 's3://cli-bucket');
  });

  afterAll(async () => {
    await cluster?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  test('aws s3 cp up and down: 20 MiB (multipart, striped) and 3 KiB (inline) files round-trip by SHA-256', async () => {
    const large = randomBytes(20 * 1024 * 1024);
    const small = randomBytes(3 * 1024);
    await writeFile(join(workDir, 'large.bin'), large);
    await writeFile(join(workDir, 'small.bin'), small);
    await aws('s3', 'cp', join(workDir, 'large.bin'), 's3://cli-bucket/cp/large.bin');
    await aws('s3', 'cp', join(workDir, 'small.bin'), 's3://cli-bucket/cp/small.bin');
    await aws('s3', 'cp', 's3://cli-bucket/cp/large.bin', join(workDir, 'large.down'));
    await aws('s3', 'cp', 's3://cli-bucket/cp/small.bin', join(workDir, 'small.down'));
    expect(sha256(await readFile(join(workDir, 'large.down')))).toBe(sha256(large));
    expect(sha256(await readFile(join(workDir, 'small.down')))).toBe(sha256(small));
    const listing = await aws('s3', 'ls', 's3://cli-bucket/cp/');
    expect(listing).toMatch(/\s20971520 large\.bin/);
    expect(listing).toMatch(/\s3072 small\.bin/);
  });

  test('aws s3api object tagging: --tagging on put-object, put/get/delete-object-tagging, tags kept by a server-side aws s3 cp', async () => {
    const tagsOf = async (key: string): Promise<unknown> =>
      JSON.parse(await aws('s3api', 'get-object-tagging', '--bucket', 'cli-bucket', '--key', key, '--output', 'json')).TagSet;
    const file = join(workDir, 'tagged.bin');
    await writeFile(file, randomBytes(300_000));
    await aws('s3api', 'put-object', '--bucket', 'cli-bucket', '--key', 'tagged', '--body', file, '--tagging', 'team=storage&tier=hot%20data');
    expect(await tagsOf('tagged')).toEqual([{ Key: 'team', Value: 'storage' }, { Key: 'tier', Value: 'hot data' }]);
    await aws('s3api', 'put-object-tagging', '--bucket', 'cli-bucket', '--key', 'tagged', '--tagging', 'TagSet=[{Key=reviewed,Value=yes}]');
    expect(await tagsOf('tagged')).toEqual([{ Key: 'reviewed', Value: 'yes' }]);
    await aws('s3', 'cp', 's3://cli-bucket/tagged', 's3://cli-bucket/tagged-copy');
    expect(await tagsOf('tagged-copy')).toEqual([{ Key: 'reviewed', Value: 'yes' }]);
    await aws('s3api', 'delete-object-tagging', '--bucket', 'cli-bucket', '--key', 'tagged');
    expect(await tagsOf('tagged')).toEqual([]);
    const down = join(workDir, 'tagged.down');
    await aws('s3', 'cp', 's3://cli-bucket/tagged', down);
    expect(sha256(await readFile(down))).toBe(sha256(await readFile(file)));
  });

  test('aws s3api bucket tagging: put/get/delete-bucket-tagging, NoSuchTagSet when there is none', async () => {
    await expect(aws('s3api', 'get-bucket-tagging', '--bucket', 'cli-bucket')).rejects.toThrow(/NoSuchTagSet/);
    await aws('s3api', 'put-bucket-tagging', '--bucket', 'cli-bucket', '--tagging', 'TagSet=[{Key=team,Value=storage},{Key=env,Value=test}]');
    const tagSet = JSON.parse(await aws('s3api', 'get-bucket-tagging', '--bucket', 'cli-bucket', '--output', 'json')).TagSet;
    expect(tagSet).toEqual([{ Key: 'team', Value: 'storage' }, { Key: 'env', Value: 'test' }]);
    await expect(aws('s3api', 'put-bucket-tagging', '--bucket', 'cli-bucket', '--tagging', 'TagSet=[{Key=aws:x,Value=y}]')).rejects.toThrow(/InvalidTag/);
    await aws('s3api', 'delete-bucket-tagging', '--bucket', 'cli-bucket');
    await expect(aws('s3api', 'get-bucket-tagging', '--bucket', 'cli-bucket')).rejects.toThrow(/NoSuchTagSet/);
  });

  test('aws s3 sync up then down reproduces a directory tree; aws s3 rm --recursive empties it', async () => {
    const source = join(workDir, 'tree');
    const files = new Map<string, Buffer>([
      ['a.txt', randomBytes(10)],
      ['dir/b.bin', randomBytes(1024 * 1024 + 3)],
      ['dir/sub/c.bin', randomBytes(200_000)],
      ['empty', Buffer.alloc(0)],
    ]);
    for (const [name, bytes] of files) {
      await mkdir(join(source, name, '..'), { recursive: true });
      await writeFile(join(source, name), bytes);
    }
    await aws('s3', 'sync', source, 's3://cli-bucket/tree/');
    const target = join(workDir, 'tree-down');
    await aws('s3', 'sync', 's3://cli-bucket/tree/', target);
    for (const [name, bytes] of files) expect([name, sha256(await readFile(join(target, name)))]).toEqual([name, sha256(bytes)]);
    expect((await readdir(join(target, 'dir', 'sub')))).toEqual(['c.bin']);
    const recursive = await aws('s3', 'ls', '--recursive', 's3://cli-bucket/tree/');
    expect(recursive.trim().split('\n')).toHaveLength(files.size);
    await aws('s3', 'rm', '--recursive', 's3://cli-bucket/tree/');
    // `aws s3 ls` exits 1 when nothing matches, so emptiness is checked with s3api.
    expect((await aws('s3api', 'list-objects-v2', '--bucket', 'cli-bucket', '--prefix', 'tree/', '--query', 'length(Contents || `[]`)', '--output', 'text')).trim()).toBe('0');
  });
});
