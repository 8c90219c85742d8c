/**
 * The healer (packages/healer: node-loss rebuild, scrubber, orphan GC) runs as its own process,
 * `node packages/healer/dist/main.js --metadata … --metrics-listen …` (see its --help). Scenarios
 * that need healing ask this module: when the healer's binary is built it is started against the
 * cluster, its `GET /admin/status` is read for the backlog and rebuild totals, and the runner
 * waits (bounded) for full redundancy, failing the scenario if it is not reached; when the binary
 * is missing or exits at start-up, the checks that need it are reported as "awaits healer"
 * instead of being silently skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { DurabilityCluster } from './durability-cluster';
import { sleep } from './durability-cluster';

/** packages/healer/dist/main.js, from test-cluster/src or test-cluster/dist alike. */
export function healerMainPath(): string {
  return path.resolve(__dirname, '..', '..', 'packages', 'healer', 'dist', 'main.js');
}

/** The part of the healer's /admin/status this suite reads. */
export interface HealerStatusView {
  readonly backlogStripes: number;
  /** Queued repairs the healer holds until a node that did not answer does. */
  readonly repairsAwaitingNodes: number;
  readonly shardsRebuilt: number;
  readonly orphansDeleted: number;
  readonly unrecoverable: number;
  readonly corruptShardsFound: number;
}

export interface HealerProcess {
  readonly running: boolean;
  /** Why no healer runs (absent or failed to start); undefined when it runs. */
  readonly absentReason: string | undefined;
  /** undefined when no healer runs or it did not answer. */
  status(): Promise<HealerStatusView | undefined>;
  stop(): Promise<void>;
}

const startupWindowMs = 1_500;

const noHealer = (absentReason: string): HealerProcess => ({ running: false, absentReason, status: async () => undefined, stop: async () => undefined });

function asNumber(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** The suite's view of a healer `/admin/status` body. */
export function parseHealerStatus(value: unknown): HealerStatusView {
  const body = (typeof value === 'object' && value !== null ? value : {}) as { backlogStripes?: unknown; repairsAwaitingNodes?: unknown; totals?: Record<string, unknown>; scrub?: Record<string, unknown> };
  return {
    backlogStripes: asNumber(body.backlogStripes),
    repairsAwaitingNodes: asNumber(body.repairsAwaitingNodes),
    shardsRebuilt: asNumber(body.totals?.['shardsRebuilt']),
    orphansDeleted: asNumber(body.totals?.['orphansDeleted']),
    unrecoverable: asNumber(body.totals?.['unrecoverable']),
    corruptShardsFound: asNumber(body.scrub?.['corruptShardsFound']),
  };
}

async function readStatus(adminAddress: string): Promise<HealerStatusView | undefined> {
  try {
    const res = await fetch(`http://${adminAddress}/admin/status`, { signal: AbortSignal.timeout(2_000) });
    if (res.status !== 200) return undefined;
    return parseHealerStatus(await res.json());
  } catch {
    return undefined;
  }
}

/** Starts the healer main if it is built; a healer that exits at start-up is reported with its log tail. */
export async function startHealerIfBuilt(cluster: DurabilityCluster, extraArgs: readonly string[]): Promise<HealerProcess> {
  const mainPath = healerMainPath();
  if (!fs.existsSync(mainPath)) return noHealer(`healer not built (${path.relative(process.cwd(), mainPath)} missing)`);
  // In the cluster's port block, so that in netns mode the forwarder already covers it.
  const adminAddress = `127.0.0.1:${cluster.healerAdminPort}`;
  const logPath = path.join(cluster.cluster.layout.logDir, 'healer.log');
  const log = fs.openSync(logPath, 'a');
  const args = [mainPath, '--metadata', cluster.cluster.layout.metadataAddresses.join(','), '--metrics-listen', adminAddress, '--worker-id', 'durability-healer', ...extraArgs];
  const child: ChildProcess = spawn(cluster.nodeExecPath, args, { stdio: ['ignore', log, log], env: { PATH: cluster.options.baseEnv['PATH'] ?? '' } });
  fs.closeSync(log);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  await sleep(startupWindowMs);
  if (exited) {
    const tail = fs.readFileSync(logPath, 'utf8').trim().split('\n').slice(-3).join(' | ').slice(0, 400);
    return noHealer(`healer exited at start-up: ${tail}`);
  }
  return {
    running: true,
    absentReason: undefined,
    status: () => (exited ? Promise.resolve(undefined) : readStatus(adminAddress)),
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}
