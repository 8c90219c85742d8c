/**
 * Goal: the `aws` CLI works unmodified against the gateway (its defaults: flexible checksums,
 * multipart above 8 MiB, path-style with --endpoint-url). Method: run the real CLI as child
 * processes (asynchronously, since the gateway runs in this process) against a gateway on
 * 127.0.0.1:0; compare files by SHA-256. Skipped with a message when `aws` is not installed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRandom } from '@tessera/common';
import { startTestGateway, testAccessKeyId, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

function cliAvailable(): boolean {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

const available = cliAvailable();
if (!available) console.warn('aws-cli.test.ts: the `aws` CLI is not installed; skipping the AWS CLI end-to-end tests.');
const describeCli = available ? describe : describe.skip;

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function randomBytesOf(seed: number, sizeBytes: number): Buffer {
  const bytes = Buffer.alloc(sizeBytes);
  new SeededRandom(seed).fillBytes(bytes);
  return bytes;
}

describeCli('aws CLI', () => {
  let gateway: TestGateway;
  let workDir: string;

  function aws(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        'aws',
        ['--endpoint-url', gateway.endpoint, '--region', testRegion, ...args],
        {
          timeout: 120_000,
          env: {
            PATH: process.env['PATH'] ?? '',
            HOME: workDir,
            AWS_ACCESS_KEY_ID: testAccessKeyId,
            AWS_SECRET_ACCESS_KEY: testSecretAccessKey,
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
    gateway = await startTestGateway();
    workDir = await mkdtemp(join(tmpdir(), 'tessera-gateway-cli-'));
  });

  afterAll(async () => {
    await gateway?.stop();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  test('mb, cp up (single and multipart), ls, cp down, s3api put/head, sync both ways, rm --recursive', async () => {
    await aws('s3', 'mb', 's3://cli-bucket');
    const small = randomBytesOf(1, 100_000);
    const large = randomBytesOf(2, 9 * 1024 * 1024 + 123);
    await writeFile(join(workDir, 'small.bin'), small);
    await writeFile(join(workDir, 'large.bin'), large);
    await aws('s3', 'cp', join(workDir, 'small.bin'), 's3://cli-bucket/dir/small.bin');
    await aws('s3', 'cp', join(workDir, 'large.bin'), 's3://cli-bucket/dir/large file.bin');
    expect(sha256(gateway.backend.storedBytes('cli-bucket', 'dir/large file.bin') ?? Buffer.alloc(0))).toBe(sha256(large));

    const listing = await aws('s3', 'ls', 's3://cli-bucket/dir/');
    expect(listing).toContain('small.bin');
    expect(listing).toContain('large file.bin');

    await aws('s3', 'cp', 's3://cli-bucket/dir/large file.bin', join(workDir, 'large.down'));
    expect(sha256(await readFile(join(workDir, 'large.down')))).toBe(sha256(large));

    await aws('s3api', 'put-object', '--bucket', 'cli-bucket', '--key', 'api/obj', '--body', join(workDir, 'small.bin'), '--content-type', 'text/x-test', '--metadata', 'k=v');
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'api/obj')) as { ContentType: string; Metadata: Record<string, string>; ContentLength: number };
    expect(head).toMatchObject({ ContentType: 'text/x-test', Metadata: { k: 'v' }, ContentLength: small.length });

    const upDir = join(workDir, 'up');
    await mkdir(join(upDir, 'nested'), { recursive: true });
    const files: Record<string, Buffer> = { 'a.txt': randomBytesOf(3, 1000), 'nested/b.txt': randomBytesOf(4, 70_000), 'nested/c d.txt': randomBytesOf(5, 0) };
    for (const [name, data] of Object.entries(files)) await writeFile(join(upDir, name), data);
    await aws('s3', 'sync', upDir, 's3://cli-bucket/synced');
    for (const [name, data] of Object.entries(files)) expect([name, sha256(gateway.backend.storedBytes('cli-bucket', `synced/${name}`) ?? Buffer.from('missing'))]).toEqual([name, sha256(data)]);

    const downDir = join(workDir, 'down');
    await aws('s3', 'sync', 's3://cli-bucket/synced', downDir);
    for (const [name, data] of Object.entries(files)) expect([name, sha256(await readFile(join(downDir, name)))]).toEqual([name, sha256(data)]);

    await aws('s3', 'rm', '--recursive', 's3://cli-bucket/');
    expect(gateway.backend.objectCount('cli-bucket')).toBe(0);
    await aws('s3', 'rb', 's3://cli-bucket');
  });
});
