/**
 * Goal: the gateway binary behaves like a server operators can run: --help, clear exit codes
 * for bad flags (2) and a port in use (1, with the address in the message), health and metrics
 * on --metrics-listen, settings precedence (flags > env > config file > defaults), a graceful
 * SIGTERM (exit 0), and HTTPS from PEM files, renewed on SIGHUP. Method: real child processes of dist/main.js (built by `npx tsc -b
 * packages/gateway`), plus the pure config resolver called directly.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayProcessConfigError, resolveGatewayProcessConfig } from '../../src/cluster/gateway-process-config';
import { servedCommonName } from '../support/tls-probe';

jest.setTimeout(60_000);

const mainJs = join(__dirname, '..', '..', 'dist', 'main.js');
const keysEnv = { TESSERA_ROOT_ACCESS_KEY: 'PROCESSTESTKEY01', TESSERA_ROOT_SECRET_KEY: 'process-test-secret-0123456789' };

interface Run {
  readonly child: ChildProcess;
  readonly exit: Promise<number | null>;
  stdout: string;
  stderr: string;
}

function runMain(args: readonly string[], env: Record<string, string> = keysEnv): Run {
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: run \`npx tsc -b packages/gateway\` first`);
  const child = spawn(process.execPath, [mainJs, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = { child, exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))), stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  return run;
}

async function listening(run: Run): Promise<{ endpoint: string; metricsEndpoint: string }> {
  for (let i = 0; i < 200 && !run.stdout.includes('\n'); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  return JSON.parse(run.stdout.split('\n')[0]!) as { endpoint: string; metricsEndpoint: string };
}

describe('gateway process (dist/main.js)', () => {
  let blocker: Server;
  let blockedPort: number;

  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    blockedPort = (blocker.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  });

  test('--help prints the flags with their environment variables and exits 0', async () => {
    const run = runMain(['--help']);
    expect(await run.exit).toBe(0);
    expect(run.stdout).toContain('--metadata');
    expect(run.stdout).toContain('TESSERA_ROOT_ACCESS_KEY');
  });

  test('a bad configuration exits 2 naming the problem', async () => {
    const missing = runMain(['--listen', '127.0.0.1:0']);
    expect(await missing.exit).toBe(2);
    expect(missing.stderr).toContain('--metadata is required');
    const badShards = runMain(['--metadata', '127.0.0.1:1', '--data-shards', 'six']);
    expect(await badShards.exit).toBe(2);
    expect(badShards.stderr).toContain('--data-shards must be an integer');
  });

  test('a port in use exits 1 with the address and the reason', async () => {
    const run = runMain(['--listen', `127.0.0.1:${blockedPort}`, '--metadata', '127.0.0.1:1']);
    expect(await run.exit).toBe(1);
    expect(run.stderr).toContain(`cannot listen on 127.0.0.1:${blockedPort} for S3: address already in use`);
  });

  test('serves health and metrics, reports not-ready without a metadata quorum, stops on SIGTERM with exit 0', async () => {
    // Port 1 on loopback: nothing listens there, so every metadata call is refused.
    const run = runMain(['--listen', '127.0.0.1:0', '--metadata', '127.0.0.1:1', '--metrics-listen', '127.0.0.1:0', '--log-level', 'error']);
    const { endpoint, metricsEndpoint } = await listening(run);
    expect((await fetch(`${metricsEndpoint}/health/live`)).status).toBe(200);
    expect((await fetch(`${metricsEndpoint}/health/ready`)).status).toBe(503);
    const metrics = await (await fetch(`${metricsEndpoint}/metrics`)).text();
    expect(metrics).toContain('gateway_degraded_reads_total');
    expect(metrics).toContain('gateway_quorum_failures_total');
    // The S3 listener answers too (unsigned: the operational endpoints are also served there).
    expect((await fetch(`${endpoint}/health/live`)).status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
  });

  test('TLS: serves HTTPS with the given PEM files, takes a renewed certificate on SIGHUP, keeps it when the new pair is bad', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-gw-tls-'));
    const fixture = (name: string): Promise<Buffer> => readFile(join(__dirname, '..', 'fixtures', 'tls', name));
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    try {
      const onlyCert = runMain(['--metadata', '127.0.0.1:1', '--tls-cert-file', certFile]);
      expect(await onlyCert.exit).toBe(2);
      expect(onlyCert.stderr).toContain('--tls-cert-file and --tls-key-file');
      const missing = runMain(['--listen', '127.0.0.1:0', '--metadata', '127.0.0.1:1', '--tls-cert-file', certFile, '--tls-key-file', keyFile]);
      expect(await missing.exit).toBe(1);
      expect(missing.stderr).toContain(`cannot read the TLS certificate ${certFile}`);

      await writeFile(certFile, await fixture('cert-a.pem'));
      await writeFile(keyFile, await fixture('key-a.pem'));
      const run = runMain(['--listen', '127.0.0.1:0', '--metadata', '127.0.0.1:1', '--tls-cert-file', certFile, '--tls-key-file', keyFile, '--log-level', 'info']);
      const { endpoint } = await listening(run);
      expect(endpoint).toMatch(/^https:/);
      const port = Number(new URL(endpoint).port);
      expect(await servedCommonName(port)).toBe('tessera-test-a');
      await writeFile(certFile, await fixture('cert-b.pem'));
      await writeFile(keyFile, await fixture('key-b.pem'));
      run.child.kill('SIGHUP');
      await waitUntil(async () => (await servedCommonName(port)) === 'tessera-test-b');
      // A certificate whose key is another's: refused, logged, the previous one stays.
      await writeFile(certFile, await fixture('cert-a.pem'));
      run.child.kill('SIGHUP');
      await waitUntil(async () => run.stderr.includes('TLS certificate not reloaded'));
      expect(await servedCommonName(port)).toBe('tessera-test-b');
      run.child.kill('SIGTERM');
      expect(await run.exit).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function waitUntil(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('resolveGatewayProcessConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-gw-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('flags > TESSERA_* env > config file > defaults; k + 1 write quorum by default', async () => {
    const file = join(dir, 'gateway.json');
    await writeFile(file, JSON.stringify({ region: 'eu-west-1', dataShards: 4, parityShards: 2, inlineSizeBytesMax: 1000, metadata: '10.0.0.1:7001' }));
    const config = resolveGatewayProcessConfig(['--config', file, '--parity-shards', '3', '--virtual-host-domain', 's3.localhost', '--virtual-host-domain', 'S3.Example.com'], {
      ...keysEnv,
      TESSERA_DATA_SHARDS: '5',
    });
    expect(config.dataPath).toMatchObject({ dataShardCount: 5, parityShardCount: 3, writeQuorumShardCount: 6, inlineSizeBytesMax: 1000, blockSizeBytes: 1024 * 1024 });
    expect([config.region, config.metadataAddresses, config.virtualHostBaseDomains]).toEqual(['eu-west-1', ['10.0.0.1:7001'], ['s3.localhost', 's3.example.com']]);
    expect([config.listenHost, config.listenPort, config.metricsListen]).toEqual(['0.0.0.0', 9000, undefined]);
    expect([config.keepAliveTimeoutMs, config.requestTimeoutMs]).toEqual([65_000, 300_000]);
    expect(resolveGatewayProcessConfig(['--metadata', '127.0.0.1:7001'], { ...keysEnv, TESSERA_GATEWAY_KEEP_ALIVE_TIMEOUT_MS: '120000' }).keepAliveTimeoutMs).toBe(120_000);
  });

  test('virtual-hosted style: <bucket>.localhost by default, replaced by the configured domains, none when set empty', () => {
    const base = ['--metadata', '127.0.0.1:7001'];
    expect(resolveGatewayProcessConfig(base, keysEnv).virtualHostBaseDomains).toEqual(['localhost']);
    expect(resolveGatewayProcessConfig(base, { ...keysEnv, TESSERA_VHOST_DOMAINS: 's3.example.com, localhost' }).virtualHostBaseDomains).toEqual(['s3.example.com', 'localhost']);
    expect(resolveGatewayProcessConfig([...base, '--virtual-host-domain', 's3.example.com'], keysEnv).virtualHostBaseDomains).toEqual(['s3.example.com']);
    expect(resolveGatewayProcessConfig([...base, '--virtual-host-domain', ''], keysEnv).virtualHostBaseDomains).toEqual([]);
  });

  test('refuses unknown flags, short secrets and a write quorum below k', () => {
    const base = ['--metadata', '127.0.0.1:7001'];
    expect(() => resolveGatewayProcessConfig([...base, '--bogus', '1'], keysEnv)).toThrow(GatewayProcessConfigError);
    expect(() => resolveGatewayProcessConfig(base, { ...keysEnv, TESSERA_ROOT_SECRET_KEY: 'short' })).toThrow('at least 16 characters');
    expect(() => resolveGatewayProcessConfig([...base, '--write-quorum-shards', '5'], keysEnv)).toThrow('writeQuorumShardCount');
    expect(() => resolveGatewayProcessConfig([...base, '--keep-alive-timeout-ms', '10'], keysEnv)).toThrow('keep-alive-timeout-ms');
    // A write buffer budget too small for one write of the stripe shape (7.3 MiB at RS(6,3), 1 MiB blocks).
    expect(() => resolveGatewayProcessConfig([...base, '--write-buffer-bytes-max', String(4 * 1024 * 1024)], keysEnv)).toThrow('writeBufferBytesMax holds one write');
  });

  test('memory budgets: 256 MiB each by default, set by flag or env; the write budget grows with the block size unless given', () => {
    const base = ['--metadata', '127.0.0.1:7001'];
    const mebibyte = 1024 * 1024;
    expect(resolveGatewayProcessConfig(base, keysEnv).dataPath).toMatchObject({ readBufferBytesMax: 256 * mebibyte, writeBufferBytesMax: 256 * mebibyte });
    expect(resolveGatewayProcessConfig([...base, '--read-buffer-bytes-max', String(64 * mebibyte)], { ...keysEnv, TESSERA_WRITE_BUFFER_BYTES_MAX: String(512 * mebibyte) }).dataPath)
      .toMatchObject({ readBufferBytesMax: 64 * mebibyte, writeBufferBytesMax: 512 * mebibyte });
    // 16 MiB blocks (up to 48 MiB with k = 6: 8 MiB shard blocks): a read window is one block, and one write
    // holds 16 + 4 x 24 MiB; the default budgets hold 8 of each.
    const large = resolveGatewayProcessConfig([...base, '--block-size-bytes', String(16 * mebibyte)], keysEnv).dataPath;
    expect(large).toMatchObject({ readWindowBytes: 16 * mebibyte, readBufferBytesMax: 256 * mebibyte });
    expect(large.writeBufferBytesMax).toBe(8 * (16 * mebibyte + 4 * 9 * Math.ceil(16 * mebibyte / 6)));
    expect(resolveGatewayProcessConfig([...base, '--block-size-bytes', String(48 * mebibyte)], keysEnv).dataPath).toMatchObject({ readWindowBytes: 48 * mebibyte, readBufferBytesMax: 8 * 48 * mebibyte });
  });
});
