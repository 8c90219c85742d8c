// Goal: LocalCluster runs a real 3-zone cluster (3 metadata, 9 storage nodes, gateway, healer) as
// child processes: it becomes ready, elects a leader, every process serves its own and the process
// metrics, survives kill -9 of a storage node (restarted by the supervisor), takes a zone down and back, refuses a second launcher on its data directory,
// and stops leaving no child running. Method: one cluster on free loopback ports in a temp data
// dir, driven through the library API; processes checked with kill(pid, 0).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataDirLockedError, defaultClusterLayoutOptions, defaultRoleMainPath, generateRootCredentials, LocalCluster } from '@tessera/local-cluster';
import type { LocalClusterEvent, LocalClusterOptions } from '@tessera/local-cluster';
import { findFreePortBlock } from '@tessera/rpc';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('LocalCluster (real processes)', () => {
  let dataDir: string;
  let options: LocalClusterOptions;
  let cluster: LocalCluster;
  const events: LocalClusterEvent[] = [];
  const seenPids = new Set<number>();

  beforeAll(async () => {
    for (const role of ['metadata', 'storage'] as const) {
      if (!fs.existsSync(defaultRoleMainPath(role))) throw new Error(`${defaultRoleMainPath(role)} missing: run npm run build first`);
    }
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-lc-'));
    const base = await findFreePortBlock('127.0.0.1', 40);
    options = {
      ...defaultClusterLayoutOptions,
      dataDir, gatewayPort: base, metadataPortBase: base + 1, storagePortBase: base + 5, metricsPortBase: base + 15,
      region: 'us-east-1', rootCredentials: generateRootCredentials(), baseEnv: { PATH: process.env['PATH'] },
      logLevel: 'info', healthCheckIntervalMs: 250, gatewayMode: 'if-built', healerMode: 'if-built', nodeExecPath: process.execPath,
      restartPolicy: { restartBackoffMsBase: 200, restartBackoffMsMax: 2_000, stableAfterMs: 10_000, stopGraceMs: 5_000 },
      onEvent: (event) => {
        events.push(event);
        if (event.kind === 'spawned') seenPids.add(event.pid);
      },
    };
    cluster = new LocalCluster(options);
    await cluster.start();
    await cluster.waitReady(60_000);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test('every process is ready and the metadata group has a leader', async () => {
    const status = await until(async () => {
      const s = await cluster.status();
      return s.metadata.leaderId !== undefined ? s : undefined;
    }, 20_000, 'a metadata leader');
    const expected = 12 + (cluster.gatewayAbsentReason === undefined ? 1 : 0) + (fs.existsSync(defaultRoleMainPath('healer')) ? 1 : 0);
    expect(status.processes).toHaveLength(expected);
    expect(status.processes.every((p) => p.state === 'running' && p.ready)).toBe(true);
    expect(['meta-1', 'meta-2', 'meta-3']).toContain(status.metadata.leaderId);
    expect(status.metadata.term).toBeGreaterThan(0);
    expect(status.metadata.respondingNodeCount).toBe(3);
    const zones = new Map<string, number>();
    for (const p of status.processes) if (p.role === 'storage') zones.set(p.zone ?? '', (zones.get(p.zone ?? '') ?? 0) + 1);
    expect(Object.fromEntries(zones)).toEqual({ 'az-a': 3, 'az-b': 3, 'az-c': 3 });
    for (const p of status.processes) expect(fs.existsSync(p.logPath)).toBe(true);
  });

  test('every process serves its own metrics and the process metrics (RSS, heap, CPU, event-loop lag) on /metrics', async () => {
    const ownPrefix: Record<string, string> = { metadata: 'metadata_raft_', storage: 'storage_', gateway: 'gateway_', healer: 'healer_' };
    const missing: string[] = [];
    for (const planned of (await cluster.status()).processes) {
      const response = await fetch(`http://${planned.metricsAddress}/metrics`).catch((err: unknown) => new Error(`${planned.name} at ${planned.metricsAddress}: ${String(err)}`));
      if (response instanceof Error) {
        missing.push(response.message);
        continue;
      }
      const text = await response.text();
      const names = new Set(text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => line.split(/[{ ]/)[0]));
      for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
        if (!names.has(name)) missing.push(`${planned.name}: ${name}`);
      }
      const prefix = ownPrefix[planned.role] ?? '?';
      if (![...names].some((name) => name?.startsWith(prefix))) missing.push(`${planned.name}: ${prefix}*`);
    }
    expect(missing).toEqual([]);
  });

  test('kill -9 of a storage node: reported with its log tail, restarted, ready again', async () => {
    const victim = cluster.process('storage-az-b-2');
    const oldPid = victim.pid ?? -1;
    victim.kill('SIGKILL');
    const crash = await until(() => events.find((e) => e.kind === 'crashed' && e.name === 'storage-az-b-2'), 10_000, 'the crash report');
    expect(crash).toMatchObject({ signal: 'SIGKILL', restartInMs: 200 });
    if (crash.kind === 'crashed') expect(crash.lastLogLines.length).toBeGreaterThan(0);
    await until(async () => {
      const s = (await cluster.status()).processes.find((p) => p.name === 'storage-az-b-2');
      return s?.ready === true && s.pid !== oldPid ? s : undefined;
    }, 30_000, 'storage-az-b-2 ready again');
    expect(alive(oldPid)).toBe(false);
    expect(victim.restartCount).toBe(1);
    // The others were not disturbed.
    const othersRestarted = (await cluster.status()).processes.filter((p) => p.name !== 'storage-az-b-2' && p.restartCount > 0).map((p) => p.name);
    const otherCrashes = events.filter((e) => e.kind === 'crashed' && e.name !== 'storage-az-b-2');
    expect({ othersRestarted, otherCrashes }).toEqual({ othersRestarted: [], otherCrashes: [] });
  }, 60_000);

  test('a zone outage (stopZone) keeps the metadata group serving, and the zone comes back', async () => {
    await cluster.stopZone('az-c');
    const during = await until(async () => {
      const s = await cluster.status();
      return s.metadata.leaderId !== undefined && s.metadata.leaderId !== 'meta-3' ? s : undefined;
    }, 20_000, 'a leader outside az-c');
    expect(during.processes.filter((p) => p.zone === 'az-c').every((p) => p.state === 'stopped' && !p.ready)).toBe(true);
    for (const name of cluster.processNames()) if (cluster.process(name).state === 'stopped') cluster.process(name).start();
    await cluster.waitReady(60_000);
  }, 90_000);

  test('a second launcher on the same data directory is refused', async () => {
    const second = new LocalCluster(options);
    await expect(second.start()).rejects.toThrow(DataDirLockedError);
  });

  test('stop() ends every child (gateway and healer, storage, followers, leader last) and releases the lock', async () => {
    const leaderId = (await cluster.status()).metadata.leaderId;
    const stopEvents = events.length;
    await cluster.stop();
    for (const pid of seenPids) expect(alive(pid)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'launcher.lock'))).toBe(false);
    const stopOrder = events.slice(stopEvents).filter((e) => e.kind === 'stopped').map((e) => e.name);
    expect(stopOrder.at(-1)).toBe(leaderId);
    // The gateway and the healer stop together (either may exit first), both before any storage node.
    const firstStorage = stopOrder.findIndex((n) => n.startsWith('storage-'));
    if (cluster.gatewayAbsentReason === undefined) expect(stopOrder.indexOf('gateway')).toBeGreaterThanOrEqual(0);
    for (const front of ['gateway', 'healer']) if (stopOrder.includes(front)) expect(stopOrder.indexOf(front)).toBeLessThan(firstStorage);
    expect(stopOrder.findIndex((n) => n.startsWith('meta-'))).toBeGreaterThan(stopOrder.findLastIndex((n) => n.startsWith('storage-')));
  }, 60_000);

  test('a restart on the same data directory reuses it: same term history, keys, layout', async () => {
    const again = new LocalCluster(options);
    await again.start();
    try {
      await again.waitReady(60_000);
      const status = await until(async () => {
        const s = await again.status();
        return s.metadata.leaderId !== undefined ? s : undefined;
      }, 20_000, 'a leader after restart');
      // A reused Raft log carries the old terms: the new term is beyond the first election's.
      expect(status.metadata.term).toBeGreaterThan(1);
    } finally {
      await again.stop();
    }
  }, 90_000);

  test('stop() does not wait out health rounds that piled up while a node did not answer', async () => {
    // A frozen node makes every health round last ~2 s (a 1 s probe timeout, then one retry)
    // against a 250 ms period. Rounds used to be chained one per tick, and stop() waited for the
    // whole chain (here ~24 rounds, ~48 s) before it signalled the first child.
    const again = new LocalCluster(options);
    await again.start();
    const pids: number[] = [];
    try {
      await again.waitReady(60_000);
      for (const p of (await again.status()).processes) if (p.pid !== undefined) pids.push(p.pid);
      const frozenPid = again.process('storage-az-a-1').pid;
      if (frozenPid === undefined) throw new Error('storage-az-a-1 has no pid');
      process.kill(frozenPid, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, 6_000));
    } finally {
      const t0 = Date.now();
      await again.stop();
      // The round in progress (<= 2 s), the frozen node's 5 s grace before SIGKILL, the others' exits.
      expect(Date.now() - t0).toBeLessThan(30_000);
    }
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 120_000);
});
