// Goal: `tessera storage|metadata|gateway [flags]` runs that role's own main in the CLI process,
// flags passed through untouched (the single entry point a container image uses). Method: the
// built CLI as a child process; a storage node on port 0 announces itself and stops on SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireBuilt, runTessera, tesseraMain, until } from './helpers';

describe('role subcommands', () => {
  beforeAll(() => requireBuilt());

  test('tessera storage --help prints the storage node usage', async () => {
    const result = await runTessera(['storage', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Usage: node packages/storage-node/dist/main.js [options]');
  });

  test('tessera storage runs a storage node in this process until SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-role-'));
    try {
      const child = spawn(process.execPath, [tesseraMain, 'storage', '--node-id', 'role-test', '--zone', 'az-x', '--listen', '127.0.0.1:0',
        '--data-dir', dataDir, '--metrics-listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.resume();
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const line = await until(() => stdout.split('\n').find((l) => l.includes('"event":"listening"')), 20_000, 'the listening line');
      const announced = JSON.parse(line) as { grpcAddress: string; metricsAddress: string };
      expect(announced.grpcAddress).toMatch(/^127\.0\.0\.1:\d+$/);
      const live = await fetch(`http://${announced.metricsAddress}/health/live`);
      expect(live.status).toBe(200);
      // In process: the CLI spawned no child of its own to run the role.
      expect(spawnSync('pgrep', ['-P', String(child.pid)]).status).toBe(1);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);

  test('tessera config shows each setting with its source', async () => {
    const result = await runTessera(['config', '--gateway-port', '9005'], { TESSERA_REGION: 'eu-west-1' });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/--gateway-port\s+9005\s+flag/);
    expect(result.stdout).toMatch(/--region\s+eu-west-1\s+env/);
    expect(result.stdout).toMatch(/--metadata-port-base\s+7001\s+default/);
  });
});
