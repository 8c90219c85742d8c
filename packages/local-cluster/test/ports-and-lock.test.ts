// Goal: a taken port is one clear message naming the port and the option that moves it, and
// one data directory admits one launcher (a dead launcher's lock is taken over). Method: real
// sockets on loopback, real lock files, a real child process as the "other launcher".
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkPortsFree, DataDirLockedError, defaultClusterLayoutOptions, planCluster, PortInUseError } from '@tessera/local-cluster';
import { findFreePortBlock, isPortFree } from '@tessera/rpc';
import { DataDirLock } from '../src/data-dir-lock';

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('port checks', () => {
  test('a taken gateway port names the address, the process and --gateway-port', async () => {
    const base = await findFreePortBlock('127.0.0.1', 40);
    const layout = planCluster({ ...defaultClusterLayoutOptions, dataDir: '/tmp/x', gatewayPort: base, metadataPortBase: base + 1, storagePortBase: base + 5, metricsPortBase: base + 15 });
    await expect(checkPortsFree(layout)).resolves.toBeUndefined();
    const blocker = await listen(base);
    try {
      const error = await checkPortsFree(layout).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(PortInUseError);
      expect((error as Error).message).toBe(`port 127.0.0.1:${base} (gateway) is already in use: stop whatever listens there or change it with --gateway-port`);
      expect((error as Error).message).not.toContain('\n');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('a taken metrics port points at --metrics-port-base', async () => {
    const base = await findFreePortBlock('127.0.0.1', 40);
    const layout = planCluster({ ...defaultClusterLayoutOptions, dataDir: '/tmp/x', gatewayPort: base, metadataPortBase: base + 1, storagePortBase: base + 5, metricsPortBase: base + 15 });
    const blocker = await listen(base + 15 + 11); // first storage node's metrics port
    try {
      await expect(checkPortsFree(layout)).rejects.toThrow(`port 127.0.0.1:${base + 26} (storage-az-a-1) is already in use: stop whatever listens there or change it with --metrics-port-base`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('findFreePortBlock returns ports that are free', async () => {
    const base = await findFreePortBlock('127.0.0.1', 5);
    for (let port = base; port < base + 5; port++) expect(await isPortFree('127.0.0.1', port)).toBe(true);
  });
});

describe('data directory lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-lock-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a second launcher on the same data directory is refused with the owner pid', () => {
    const lockPath = path.join(dir, 'launcher.lock');
    const first = new DataDirLock(lockPath);
    first.acquire([]);
    // Pretend the lock belongs to another live process: our parent.
    const record = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as { pid: number };
    fs.writeFileSync(lockPath, JSON.stringify({ ...record, pid: process.ppid }));
    const error = (() => {
      try {
        new DataDirLock(lockPath).acquire([]);
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as Error).message).toBe(`data directory ${dir} is in use by another tessera launcher (pid ${process.ppid}): stop it first or use another --data-dir`);
  });

  test('a dead launcher\'s lock is taken over, and its still-running children are reported', async () => {
    const lockPath = path.join(dir, 'launcher.lock');
    // A child that looks like a role main (its argv holds the main path) and outlives its "launcher".
    const fakeMain = path.join(dir, 'main.js');
    fs.writeFileSync(fakeMain, 'setInterval(() => {}, 1000);');
    const orphan = spawn(process.execPath, [fakeMain], { stdio: 'ignore' });
    const deadLauncher = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => deadLauncher.once('exit', resolve));
    try {
      fs.writeFileSync(lockPath, JSON.stringify({ pid: deadLauncher.pid, startedAt: 'then', children: { 'meta-1': orphan.pid, 'meta-2': deadLauncher.pid } }));
      const lock = new DataDirLock(lockPath);
      expect(lock.acquire([fakeMain])).toEqual([orphan.pid]);
      expect((JSON.parse(fs.readFileSync(lockPath, 'utf8')) as { pid: number }).pid).toBe(process.pid);
      lock.release();
      expect(fs.existsSync(lockPath)).toBe(false);
    } finally {
      orphan.kill('SIGKILL');
    }
  });
});
