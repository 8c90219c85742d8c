// Goal: `tessera start` (what `npm start` runs) as a user sees it: it prints the endpoint, keys
// and a working `aws` line, reports a kill -9'd child and restarts it, stops everything on
// SIGINT (exit 0, no child left), and a second start on the same data directory reuses the
// keys and the data; SIGTERM stops it too. Settings come from TESSERA_* variables here, the
// precedence level flags do not cover in the other tests. Method: the built CLI as a real child
// process on free loopback ports, output read as it streams; child pids read from the lock file.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findFreePortBlock } from '@tessera/rpc';
import { isAlive, requireBuilt, runTessera, tesseraMain, until } from './helpers';

interface Launcher {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function launch(env: Record<string, string>): Launcher {
  const child = spawn(process.execPath, [tesseraMain, 'start'], {
    env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

function childPids(dataDir: string): Record<string, number> {
  const lock = JSON.parse(fs.readFileSync(path.join(dataDir, 'launcher.lock'), 'utf8')) as { children: Record<string, number> };
  return lock.children;
}

describe('tessera start (real launcher process)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let running: Launcher | undefined;

  beforeAll(async () => {
    requireBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-start-'));
    const base = await findFreePortBlock('127.0.0.1', 40);
    env = {
      TESSERA_DATA_DIR: dataDir, TESSERA_GATEWAY_PORT: String(base), TESSERA_METADATA_PORT_BASE: String(base + 1),
      TESSERA_STORAGE_PORT_BASE: String(base + 5), TESSERA_METRICS_PORT_BASE: String(base + 15), TESSERA_RESTART_BACKOFF_MS_BASE: '200',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
  });

  afterAll(async () => {
    if (running !== undefined && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test('prints endpoint, generated keys and an aws line; kill -9 is reported and healed; SIGINT stops all', async () => {
    running = launch(env);
    const launcher = running;
    await until(() => (launcher.output().includes('restarts  0') ? true : undefined), 90_000, () => `the live status; output so far:\n${launcher.output()}`);
    const out = launcher.output();
    const keys = JSON.parse(fs.readFileSync(path.join(dataDir, 'root-keys.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    expect(fs.statSync(path.join(dataDir, 'root-keys.json')).mode & 0o777).toBe(0o600);
    expect(out).toContain(`S3 endpoint  http://127.0.0.1:${env['TESSERA_GATEWAY_PORT']}`);
    expect(out).toContain('Region       us-east-1');
    expect(out).toContain(`Access key   ${keys.accessKeyId}`);
    expect(out).toContain(`Secret key   ${keys.secretAccessKey}`);
    expect(out).toContain('(generated now)');
    expect(out).toContain(`AWS_ACCESS_KEY_ID=${keys.accessKeyId} AWS_SECRET_ACCESS_KEY=${keys.secretAccessKey} AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url http://127.0.0.1:${env['TESSERA_GATEWAY_PORT']} s3 ls`);
    expect(out).toMatch(/az-a\s+metadata 1\/1 {2}storage 3\/3/);

    const status = await runTessera(['status', '--json'], env);
    expect(status.exitCode).toBe(0);

    const before = childPids(dataDir);
    // 3 metadata + 9 storage + gateway + healer.
    expect(Object.keys(before)).toHaveLength(14);
    expect(out).toMatch(/healer\s+(up|not ready)/);
    process.kill(before['storage-az-b-1'] ?? -1, 'SIGKILL');
    await until(() => (launcher.output().includes('storage-az-b-1 restarted') ? true : undefined), 30_000, 'the restart report');
    expect(launcher.output()).toMatch(/! storage-az-b-1 killed by SIGKILL; restarting in 200ms\. Last log lines:/);
    const after = childPids(dataDir);
    expect(after['storage-az-b-1']).not.toBe(before['storage-az-b-1']);
    expect(after['meta-1']).toBe(before['meta-1']);

    launcher.child.kill('SIGINT');
    expect(await launcher.exited).toBe(0);
    expect(launcher.output()).toContain('Interrupted: stopping');
    expect(launcher.output()).toContain('Stopped.');
    for (const pid of Object.values(after)) expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'launcher.lock'))).toBe(false);
  }, 150_000);

  test('a second start reuses the data directory and its keys; SIGTERM stops it', async () => {
    const keys = JSON.parse(fs.readFileSync(path.join(dataDir, 'root-keys.json'), 'utf8')) as { accessKeyId: string };
    running = launch(env);
    const launcher = running;
    await until(() => (launcher.output().includes('Tessera is running.') ? true : undefined), 90_000, () => `readiness; output so far:\n${launcher.output()}`);
    expect(launcher.output()).toContain(`Access key   ${keys.accessKeyId}`);
    expect(launcher.output()).toContain(`Keys from    ${path.join(dataDir, 'root-keys.json')}\n`);
    const pids = childPids(dataDir);
    launcher.child.kill('SIGTERM');
    expect(await launcher.exited).toBe(0);
    expect(launcher.output()).toContain('Terminated: stopping');
    for (const pid of Object.values(pids)) expect(isAlive(pid)).toBe(false);
  }, 150_000);

  test('Ctrl-C while still waiting for readiness stops at once, leaving no child', async () => {
    running = launch(env);
    const launcher = running;
    await until(() => (launcher.output().includes('Waiting for every process') ? true : undefined), 60_000, () => `the wait message; output so far:\n${launcher.output()}`);
    const pids = childPids(dataDir);
    const signalledMs = Date.now();
    launcher.child.kill('SIGINT');
    expect(await launcher.exited).toBe(0);
    // Well under the 60 s readiness timeout: the wait ends with the stop.
    expect(Date.now() - signalledMs).toBeLessThan(20_000);
    for (const pid of Object.values(pids)) expect(isAlive(pid)).toBe(false);
    expect(launcher.output()).not.toContain('Tessera is running.');
  }, 90_000);
});
