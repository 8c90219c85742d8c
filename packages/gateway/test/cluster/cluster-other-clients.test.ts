/**
 * Goal: rclone and s3cmd, two S3 clients in wide use besides the AWS tools, work unmodified
 * against the gateway on a real erasure-coded cluster. Method: their Debian builds run as child
 * processes (config files written here, nothing from the user's home) against a cluster
 * (3 metadata + 9 storage nodes + gateway) started in this file: copy a tree with a 20 MB file
 * (a multipart upload for both clients), names with spaces and non-ASCII characters, and an empty file, up
 * and down; `rclone check` and `rclone md5sum` (ETags), `rclone sync` with a deletion, `rclone
 * purge`; `s3cmd put/get/sync/ls/du/info/modify/del/rb`. Every file is compared by SHA-256.
 * Each client's tests are skipped with a message when it is not installed (`.ci/setup-system.sh`
 * installs both from Debian).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
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
  if (hasRclone || hasS3cmd) cluster = await startTestCluster();
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
});
