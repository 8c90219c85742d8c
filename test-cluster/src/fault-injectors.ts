/**
 * Fault injectors over the LocalCluster's supervised children. kill -9 leaves the supervisor to
 * restart the process (a crash); stop keeps it down until started; SIGSTOP/SIGCONT freezes a
 * process, which on a one-machine cluster is a real partition-like fault (its sockets stay open
 * but it answers nothing, its timers do not fire, and when resumed it acts on stale state, just
 * as a node cut off by a network partition and then healed would; the fallback when no network
 * namespace can be made, see network-namespace.ts for the real partition). Tiny-capacity storage nodes
 * are run outside the supervisor with the same identity, address and data dir.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { defaultRoleMainPath } from '@tessera/local-cluster';
import type { PlannedProcess } from '@tessera/local-cluster';
import type { DurabilityCluster } from './durability-cluster';
import { storageHeartbeatIntervalMs, waitFor } from './durability-cluster';

export function killProcess(cluster: DurabilityCluster, name: string): void {
  cluster.cluster.process(name).kill('SIGKILL');
}

export async function stopProcess(cluster: DurabilityCluster, name: string): Promise<void> {
  await cluster.cluster.process(name).stop();
}

export function startProcess(cluster: DurabilityCluster, name: string): void {
  cluster.cluster.process(name).start();
}

export function pauseProcess(cluster: DurabilityCluster, name: string): void {
  cluster.cluster.process(name).kill('SIGSTOP');
}

export function resumeProcess(cluster: DurabilityCluster, name: string): void {
  cluster.cluster.process(name).kill('SIGCONT');
}

/** kill -9 of every process at once (no ordering, no grace). */
export function killEverything(cluster: DurabilityCluster): void {
  for (const name of cluster.cluster.processNames()) killProcess(cluster, name);
}

/** Deletes a (stopped) storage node's whole data directory: the disk is lost for good. */
export function wipeDataDir(node: PlannedProcess): void {
  if (node.dataDir === undefined) throw new Error(`${node.name} has no data dir`);
  fs.rmSync(node.dataDir, { recursive: true, force: true });
  fs.mkdirSync(node.dataDir, { recursive: true });
}

/** A storage node started by hand (e.g. with a tiny --capacity-bytes); stop() ends it. */
export interface ManualStorageNode {
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export async function startStorageNodeWithCapacity(cluster: DurabilityCluster, node: PlannedProcess, capacityBytes: number): Promise<ManualStorageNode> {
  const args = [
    defaultRoleMainPath('storage'), '--node-id', node.name, '--zone', node.zone ?? '', '--listen', node.listenAddress,
    '--metrics-listen', node.metricsAddress, '--data-dir', node.dataDir ?? '', '--log-level', 'info',
    '--metadata', cluster.cluster.layout.metadataAddresses.join(','), '--advertise', node.listenAddress,
    '--heartbeat-interval-ms', String(storageHeartbeatIntervalMs), '--capacity-bytes', String(capacityBytes),
  ];
  const log = fs.openSync(path.join(cluster.cluster.layout.logDir, `${node.name}.manual.log`), 'a');
  const child: ChildProcess = spawn(cluster.nodeExecPath, args, { stdio: ['ignore', log, log], env: { PATH: cluster.options.baseEnv['PATH'] ?? '' } });
  fs.closeSync(log);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const handle: ManualStorageNode = {
    pid: child.pid,
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
  try {
    await waitFor(async () => {
      if (exited) throw new Error(`${node.name} with --capacity-bytes ${capacityBytes} exited at start-up`);
      const res = await fetch(`http://${node.metricsAddress}/health/ready`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 20_000, `${node.name} (tiny capacity) ready`);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}
