/**
 * Goal: rclone and s3cmd, two S3 clients in wide use besides the AWS tools, work unmodified
 * against the gateway on a real erasure-coded cluster. Method: their Debian builds run as child
 * processes (config files written here, nothing from the user's home) against a cluster
 * (3 metadata + 9 storage nodes + gateway) started in this file: copy a tree with a 20 MB file
 * (a multipart upload for both clients), names with spaces and non-ASCII characters, and an empty file, up
 * and down; `rclone check` and `rclone md5sum` (ETags), `rclone sync` with a deletion, `rclone
 * purge`; `s3cmd put/get/sync/ls/du/info/modify/del/rb`, `setpolicy/delpolicy` and `setacl`. Every file is compared by SHA-256.
 * Each client's tests are skipped with a message when it is not installed (`.ci/setup-system.sh`
 * installs both from Debian).
 * boto3 (`boto3-round-trip.py`, run by the first python3 that imports it) goes through what
 * Python applications do: managed multipart uploads, parallel ranged downloads and copies
 * (s3transfer), paginators, the resource API's batch delete, presigned URLs, versions and tags.
 * Also a browser-form upload (POST Object) as web applications make them: botocore (the AWS
 * CLI's and boto3's library) writes and signs the form with `generate_presigned_post`, SigV4 and
 * SigV2, and Node's fetch posts it (the multipart encoding a browser's FormData produces) with a
 * multi-block file; read back through the SDK by SHA-256. Skipped when python3 cannot import
 * botocore (the Debian awscli package brings it).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CreateBucketCommand, GetBucketPolicyCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { clusterAccessKeyId, clusterSecretAccessKey, startTestCluster } from './cluster-fixture';
import type { TestCluster } from './cluster-fixture';

jest.setTimeout(120_000);

function installed(command: string): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

const hasRclone = installed('rclone');
const hasS3cmd = installed('s3cmd');

/** A python3 that can import botocore: the one on PATH, else Debian's (where awscli puts it). */
/** A python3 that can import `module`, or undefined. */
function pythonWith(module: string): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(python, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 30_000 });
      return python;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}
const botocorePython = pythonWith('botocore');
if (botocorePython === undefined) console.warn('cluster-other-clients.test.ts: python3 cannot import botocore; skipping the browser-form upload test.');
const boto3Python = pythonWith('boto3');
if (boto3Python === undefined) console.warn('cluster-other-clients.test.ts: python3 cannot import boto3; skipping the boto3 round trip.');
if (!hasRclone) console.warn('cluster-other-clients.test.ts: rclone is not installed; skipping its tests.');
if (!hasS3cmd) console.warn('cluster-other-clients.test.ts: s3cmd is not installed; skipping its tests.');
const describeIf = (available: boolean): jest.Describe => (available ? describe : describe.skip);
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The tree both clients upload: multipart-sized, empty, spaced and non-ASCII names, nesting. */
const treeFiles = new Map<string, Buffer>([
  ['big.bin', randomBytes(20_000_000)],
  ['a/small.txt', randomBytes(3_000)],
  ['a/b/spaced name é.txt', randomBytes(70_000)],
  ['a/b/c/deep.bin', randomBytes(1024 * 1024 + 1)],
  ['empty', Buffer.alloc(0)],
]);

async function writeTree(root: string): Promise<void> {
  for (const [name, bytes] of treeFiles) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), bytes);
  }
}

async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name))).sort();
}

async function expectTree(root: string): Promise<void> {
  expect(await listTree(root)).toEqual([...treeFiles.keys()].sort());
  for (const [name, bytes] of treeFiles) expect([name, sha256(await readFile(join(root, name)))]).toEqual([name, sha256(bytes)]);
}

let cluster: TestCluster | undefined;
let workDir: string;

/** Runs a client with a minimal environment (no AWS_* from this machine, no user config). */
function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: { PATH: process.env['PATH'] ?? '', HOME: workDir } },
      (error, stdout, stderr) => (error === null ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} failed: ${stderr}`))),
    );
  });
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tessera-other-clients-'));
  if (hasRclone || hasS3cmd || botocorePython !== undefined || boto3Python !== undefined) cluster = await startTestCluster();
});

afterAll(async () => {
  await cluster?.stop();
  await rm(workDir, { recursive: true, force: true });
});

describeIf(hasRclone)('rclone against a cluster gateway', () => {
  const rclone = (...args: string[]): Promise<string> => run('rclone', ['--config', join(workDir, 'rclone.conf'), ...args]);

  beforeAll(async () => {
    const endpoint = cluster!.gateway.endpoint;
    await writeFile(join(workDir, 'rclone.conf'), [
      '[tessera]', 'type = s3', 'provider = Other', `access_key_id = ${clusterAccessKeyId}`, `secret_access_key = ${clusterSecretAccessKey}`,
      `endpoint = ${endpoint}`, 'region = us-east-1', '',
    ].join('\n'));
  });

  test('copy up and down, check, md5sum against ETags, sync with a deletion, purge', async () => {
    const source = join(workDir, 'rclone-src');
    await writeTree(source);
    await rclone('mkdir', 'tessera:rclone-bucket');
    // 5 MiB parts above 5 MiB: big.bin goes up as a 4-part multipart upload (rclone keeps its
    // MD5 in x-amz-meta-md5chksum, since a multipart ETag is not one).
    await rclone('copy', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', source, 'tessera:rclone-bucket/tree');
    const bigHead = await cluster!.s3.send(new HeadObjectCommand({ Bucket: 'rclone-bucket', Key: 'tree/big.bin' }));
    expect(bigHead.ETag).toMatch(/-4"$/);
    // `check` compares sizes and MD5s file by file.
    await rclone('check', source, 'tessera:rclone-bucket/tree');
    const down = join(workDir, 'rclone-down');
    await rclone('copy', 'tessera:rclone-bucket/tree', down);
    await expectTree(down);
    const md5s = await rclone('md5sum', 'tessera:rclone-bucket/tree/a');
    expect(md5s).toContain(`${createHash('md5').update(treeFiles.get('a/small.txt')!).digest('hex')}  small.txt`);

    // sync deletes on the remote what is gone locally.
    await rm(join(source, 'a', 'small.txt'));
    await rclone('sync', source, 'tessera:rclone-bucket/tree');
    const listed = (await rclone('lsf', '-R', '--files-only', 'tessera:rclone-bucket/tree')).trim().split('\n').sort();
    expect(listed).toEqual([...treeFiles.keys()].filter((name) => name !== 'a/small.txt').sort());

    await rclone('purge', 'tessera:rclone-bucket');
    expect((await rclone('lsd', 'tessera:')).includes('rclone-bucket')).toBe(false);
  });
});

describeIf(hasS3cmd)('s3cmd against a cluster gateway', () => {
  const s3cmd = (...args: string[]): Promise<string> => run('s3cmd', ['-c', join(workDir, 's3cfg'), ...args]);

  beforeAll(async () => {
    const hostPort = new URL(cluster!.gateway.endpoint).host;
    await writeFile(join(workDir, 's3cfg'), [
      '[default]', `access_key = ${clusterAccessKeyId}`, `secret_key = ${clusterSecretAccessKey}`, `host_base = ${hostPort}`,
      `host_bucket = ${hostPort}`, 'use_https = False', 'signature_v2 = False', 'bucket_location = us-east-1', '',
    ].join('\n'));
  });

  test('put, get, sync up and down, ls, du, info, modify (server-side copy), recursive del, rb', async () => {
    const source = join(workDir, 's3cmd-src');
    await writeTree(source);
    await s3cmd('mb', 's3://s3cmd-bucket');
    await s3cmd('put', join(source, 'big.bin'), 's3://s3cmd-bucket/big.bin');
    // s3cmd's 15 MiB chunks: a 2-part multipart upload.
    expect((await cluster!.s3.send(new HeadObjectCommand({ Bucket: 's3cmd-bucket', Key: 'big.bin' }))).ETag).toMatch(/-2"$/);
    const big = join(workDir, 'big.down');
    await s3cmd('get', '--force', 's3://s3cmd-bucket/big.bin', big);
    expect(sha256(await readFile(big))).toBe(sha256(treeFiles.get('big.bin')!));

    await s3cmd('sync', `${source}/`, 's3://s3cmd-bucket/tree/');
    const down = join(workDir, 's3cmd-down');
    await s3cmd('sync', 's3://s3cmd-bucket/tree/', `${down}/`);
    await expectTree(down);
    const listing = await s3cmd('ls', '-r', 's3://s3cmd-bucket/tree/');
    expect(listing.trim().split('\n')).toHaveLength(treeFiles.size);
    const totalBytes = [...treeFiles.values()].reduce((sum, b) => sum + b.length, 0);
    expect((await s3cmd('du', 's3://s3cmd-bucket/tree/')).trim().split(/\s+/)[0]).toBe(String(totalBytes));

    // modify rewrites the object in place (CopyObject with REPLACE); the bytes must not change.
    await s3cmd('modify', '--add-header=Cache-Control: max-age=60', 's3://s3cmd-bucket/big.bin');
    const info = await s3cmd('info', 's3://s3cmd-bucket/big.bin');
    expect(info).toMatch(/File size:\s+20000000/);
    expect(info).toContain(createHash('md5').update(treeFiles.get('big.bin')!).digest('hex'));
    const head = await cluster!.s3.send(new HeadObjectCommand({ Bucket: 's3cmd-bucket', Key: 'big.bin' }));
    expect(head.CacheControl).toBe('max-age=60');
    await s3cmd('get', '--force', 's3://s3cmd-bucket/big.bin', big);
    expect(sha256(await readFile(big))).toBe(sha256(treeFiles.get('big.bin')!));

    await s3cmd('del', '--recursive', '--force', 's3://s3cmd-bucket');
    await s3cmd('rb', 's3://s3cmd-bucket');
    expect(await s3cmd('ls')).not.toContain('s3cmd-bucket');
  });

  test('setpolicy, info and delpolicy: a bucket policy round-trips through s3cmd', async () => {
    await s3cmd('mb', 's3://s3cmd-policy');
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'NoDeletes', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::s3cmd-policy/*' }] });
    const policyFile = join(workDir, 'policy.json');
    await writeFile(policyFile, policy);
    expect(await s3cmd('setpolicy', policyFile, 's3://s3cmd-policy')).toContain('Policy updated');
    expect((await cluster!.s3.send(new GetBucketPolicyCommand({ Bucket: 's3cmd-policy' }))).Policy).toBe(policy);
    expect(await s3cmd('info', 's3://s3cmd-policy')).toContain(`Policy:    ${policy}`);
    expect(await s3cmd('delpolicy', 's3://s3cmd-policy')).toContain('Policy deleted');
    expect(await s3cmd('info', 's3://s3cmd-policy')).toMatch(/Policy:\s+none/);
    await s3cmd('rb', 's3://s3cmd-policy');
  });

  test('setacl --acl-grant / --acl-revoke: an object shared with another key through s3cmd (which lower-cases the id)', async () => {
    const reader = await cluster!.metadata.createAccessKey({ name: 's3cmd-reader', canCreateBuckets: false, accessKeyId: '', secretAccessKey: '' });
    const readerClient = new S3Client({ endpoint: cluster!.gateway.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: reader, maxAttempts: 1 });
    try {
      await s3cmd('mb', 's3://s3cmd-acl');
      const file = join(workDir, 'shared.bin');
      const bytes = randomBytes(300 * 1024);
      await writeFile(file, bytes);
      await s3cmd('put', file, 's3://s3cmd-acl/shared.bin');
      const readerGet = async (): Promise<string> => {
        try {
          const response = await readerClient.send(new GetObjectCommand({ Bucket: 's3cmd-acl', Key: 'shared.bin' }));
          return sha256(Buffer.from(await response.Body!.transformToByteArray()));
        } catch (error) {
          return (error as Error).name;
        }
      };
      expect(await readerGet()).toBe('AccessDenied');
      await s3cmd('setacl', `--acl-grant=read:${reader.accessKeyId}`, 's3://s3cmd-acl/shared.bin');
      expect(await s3cmd('info', 's3://s3cmd-acl/shared.bin')).toContain(`${reader.accessKeyId}: READ`);
      expect(await readerGet()).toBe(sha256(bytes));
      await s3cmd('setacl', `--acl-revoke=read:${reader.accessKeyId}`, 's3://s3cmd-acl/shared.bin');
      expect(await readerGet()).toBe('AccessDenied');
      await s3cmd('del', 's3://s3cmd-acl/shared.bin');
      await s3cmd('rb', 's3://s3cmd-acl');
    } finally {
      readerClient.destroy();
    }
  });
});

describeIf(boto3Python !== undefined)('boto3 against a cluster gateway', () => {
  test('put/head/get, managed multipart upload, parallel download and copy, paginators, batch delete, presigned URLs, conditions, checksums, versions, tags (boto3-round-trip.py)', async () => {
    const script = join(__dirname, 'boto3-round-trip.py');
    const scratch = await mkdtemp(join(workDir, 'boto3-'));
    const out = await run(boto3Python!, [script, cluster!.gateway.endpoint, clusterAccessKeyId, clusterSecretAccessKey, scratch]);
    expect(out).toMatch(/^boto3 \S+ OK$/m);
  });
});

describeIf(botocorePython !== undefined)('browser-form upload (POST Object) signed by botocore', () => {
  /** botocore's generate_presigned_post: the URL and form fields a web page would be given. */
  function presignedPost(signatureVersion: 's3v4' | 's3', key: string): Promise<{ url: string; fields: Record<string, string> }> {
    const script = [
      'import json, sys, botocore.session',
      'from botocore.config import Config',
      'endpoint, access_key, secret_key, version, key = sys.argv[1:6]',
      "client = botocore.session.get_session().create_client('s3', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id=access_key, aws_secret_access_key=secret_key, config=Config(signature_version=version, s3={'addressing_style': 'path'}))",
      "post = client.generate_presigned_post('form-bucket', key, Fields={'Content-Type': 'application/x-tessera-test', 'x-amz-meta-origin': 'form'}, Conditions=[{'Content-Type': 'application/x-tessera-test'}, {'x-amz-meta-origin': 'form'}, ['content-length-range', 1, 16 * 1024 * 1024]], ExpiresIn=600)",
      'print(json.dumps(post))',
    ].join('\n');
    return run(botocorePython!, ['-c', script, cluster!.gateway.endpoint, clusterAccessKeyId, clusterSecretAccessKey, signatureVersion, key]).then((out) => JSON.parse(out) as { url: string; fields: Record<string, string> });
  }

  test('SigV4 and SigV2 forms store a multi-block file; a file over the policy size stores nothing', async () => {
    await cluster!.s3.send(new CreateBucketCommand({ Bucket: 'form-bucket' }));
    for (const [version, key] of [['s3v4', 'uploads/v4-${filename}'], ['s3', 'uploads/v2-${filename}']] as const) {
      const { url, fields } = await presignedPost(version, key);
      const bytes = randomBytes(3 * 1024 * 1024 + 12_345);
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob([bytes]), 'photo.bin');
      const response = await fetch(url, { method: 'POST', body: form });
      expect([version, response.status]).toEqual([version, 204]);
      const stored = `uploads/${version === 's3v4' ? 'v4' : 'v2'}-photo.bin`;
      const object = await cluster!.s3.send(new GetObjectCommand({ Bucket: 'form-bucket', Key: stored }));
      expect(sha256(await object.Body!.transformToByteArray())).toBe(sha256(bytes));
      expect([object.ContentType, object.Metadata, object.ETag]).toEqual(['application/x-tessera-test', { origin: 'form' }, `"${createHash('md5').update(bytes).digest('hex')}"`]);
    }
    const { url, fields } = await presignedPost('s3v4', 'uploads/too-big');
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', new Blob([randomBytes(16 * 1024 * 1024 + 1)]), 'big.bin');
    const response = await fetch(url, { method: 'POST', body: form });
    expect([response.status, /<Code>([^<]*)<\/Code>/.exec(await response.text())?.[1]]).toEqual([400, 'EntityTooLarge']);
    await expect(cluster!.s3.send(new HeadObjectCommand({ Bucket: 'form-bucket', Key: 'uploads/too-big' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });
});
