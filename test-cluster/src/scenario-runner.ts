/**
 * Runs one scenario against the shared cluster and turns it into its one-line verdict:
 *
 *   scenario NAME: written N, verified N, lost 0, corrupt 0, unavailable-during-fault N, healed N, seconds S
 *
 * Steps: the scenario injects its fault while workloads run; then every process is brought back,
 * healing is awaited (bounded) when a healer runs, and every key ever written on this cluster is
 * read back and judged by the history checker together with every read and listing made during
 * the scenario. Lost or corrupt bytes fail the scenario; so do the scenario's own failed checks,
 * and stripes below full redundancy after healing once a healer runs.
 */
import { SeededRandom } from '@tessera/common';
import type { ClusterHandle, ClusterMode } from './cluster-handle';
import { shardCount, sleep } from './durability-cluster';
import type { HealerProcess } from './healer-integration';
import { checkHistory } from './history-checker';
import type { Violation } from './history-checker';
import type { WriteRecord } from './history';
import type { DurabilityProfile } from './profile';
import { Workload } from './workload';

export interface ScenarioContext {
  readonly name: string;
  readonly cluster: ClusterHandle;
  readonly profile: DurabilityProfile;
  readonly random: SeededRandom;
  readonly healer: HealerProcess;
  /** Starts a workload for this scenario; failures while a fault is active are counted. */
  startWorkload(opCountPerWorkerMax?: number): Workload;
  setFaultActive(active: boolean): void;
  faultActive(): boolean;
  /** Counts an operation that failed during the fault (outside the workload). */
  countUnavailable(count?: number): void;
  countHealed(count: number): void;
  /** A check of the scenario failed (the scenario fails). */
  fail(message: string): void;
  /** A check that needs the healer could not pass because none runs (reported, not failed). */
  awaitsHealer(message: string): void;
  note(message: string): void;
  /** Stripes the metadata maps whose k+m shards are not all placed and present on disk. */
  belowFullStripeIds(): Promise<string[]>;
  /** The last placement report's examples (reasons), for failure messages. */
  placementExamples(): readonly string[];
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Where the scenario can run (disk-full needs a process started by hand: local only). */
  readonly modes: readonly ClusterMode[];
  run(context: ScenarioContext): Promise<void>;
}

export interface ScenarioResult {
  readonly name: string;
  readonly line: string;
  readonly passed: boolean;
  readonly written: number;
  readonly verified: number;
  readonly lost: number;
  readonly corrupt: number;
  readonly unavailableDuringFault: number;
  readonly healed: number;
  readonly seconds: number;
  readonly belowFullStripeCount: number;
  readonly failures: readonly string[];
  readonly awaitingHealer: readonly string[];
  readonly notes: readonly string[];
}

const finalReadAttemptCountMax = 5;
const finalReadRetryDelayMs = 1_000;

export async function runScenario(cluster: ClusterHandle, profile: DurabilityProfile, scenario: Scenario, seed: number, healer: HealerProcess): Promise<ScenarioResult> {
  const startedAtMs = Date.now();
  const random = new SeededRandom(seed);
  const failures: string[] = [];
  const awaitingHealer: string[] = [];
  const notes: string[] = [];
  let faultActive = false;
  let unavailable = 0;
  let healed = 0;
  const workloads: Workload[] = [];
  const healerBefore = await healer.status();
  let lastExamples: readonly string[] = [];
  const context: ScenarioContext = {
    name: scenario.name, cluster, profile, random, healer,
    startWorkload: (opCountPerWorkerMax) => {
      const workload = new Workload({ scenario: scenario.name, recorder: cluster.recorder, history: cluster.history, random, profile, faultActive: () => faultActive, ...(opCountPerWorkerMax === undefined ? {} : { opCountPerWorkerMax }) });
      workloads.push(workload);
      return workload;
    },
    setFaultActive: (active) => { faultActive = active; },
    faultActive: () => faultActive,
    countUnavailable: (count = 1) => { unavailable += count; },
    countHealed: (count) => { healed += count; },
    fail: (message) => { failures.push(message); },
    awaitsHealer: (message) => { awaitingHealer.push(message); },
    note: (message) => { notes.push(message); },
    belowFullStripeIds: async () => {
      const report = await cluster.placementReport();
      lastExamples = report.belowFullExamples;
      return [...report.belowFullStripeIds];
    },
    placementExamples: () => lastExamples,
  };
  try {
    await scenario.run(context);
  } catch (err) {
    failures.push(`scenario threw: ${(err as Error).stack ?? String(err)}`);
  } finally {
    faultActive = false;
    await Promise.all(workloads.map((w) => w.stop()));
  }
  for (const w of workloads) unavailable += w.counts.failedDuringFault;
  try {
    await cluster.restoreAll(90_000);
  } catch (err) {
    failures.push(`cluster did not come back: ${(err as Error).message}`);
  }
  const belowFullStripeCount = await awaitRedundancy(context, healer, profile, awaitingHealer, failures);
  const healerAfter = await healer.status();
  if (healerBefore !== undefined && healerAfter !== undefined) {
    // The healer's own count of rebuilt shards replaces the suite's on-disk estimate.
    healed = healerAfter.shardsRebuilt - healerBefore.shardsRebuilt;
    const unrecoverable = healerAfter.unrecoverable - healerBefore.unrecoverable;
    // Not a failure by itself: the healer counts every failed rebuild attempt (e.g. onto a full
    // node) as unrecoverable and retries it later; what counts is redundancy at the end.
    if (unrecoverable > 0) notes.push(`healer: ${unrecoverable} rebuild attempt(s) reported unrecoverable (retried)`);
    notes.push(`healer: ${healed} shard(s) rebuilt, ${healerAfter.orphansDeleted - healerBefore.orphansDeleted} orphan(s) deleted, ${healerAfter.corruptShardsFound - healerBefore.corruptShardsFound} bad shard(s) (missing or corrupt) found by the scrubber`);
  }
  const verification = await verifyEverything(cluster, `${scenario.name}:verify`);
  const check = checkHistory(cluster.history);
  const mine = check.violations.filter((v) => v.scenario === scenario.name || v.scenario === `${scenario.name}:verify`);
  const lost = mine.filter((v) => v.kind === 'lost' || v.kind === 'list-missing').length + verification.unreadableKeys.length;
  const corrupt = mine.filter((v) => v.kind === 'corrupt' || v.kind === 'list-phantom').length;
  for (const v of mine.slice(0, 10)) failures.push(`${v.kind} ${v.key}: ${v.detail}`);
  for (const key of verification.unreadableKeys.slice(0, 10)) failures.push(`unreadable after recovery: ${key}`);
  const verifyName = `${scenario.name}:verify`;
  const verifiedCount = verification.readableKeys.filter((key) => !mine.some((v) => v.scenario === verifyName && v.key === key)).length;
  const written = cluster.history.all().filter((r) => r.kind === 'write' && r.scenario === scenario.name && r.outcome === 'ok' && r.sha256 !== undefined).length;
  const ownWrites = cluster.history.all().filter((r): r is WriteRecord => r.kind === 'write' && r.scenario === scenario.name && r.sha256 !== undefined);
  const largestBytes = Math.max(0, ...ownWrites.map((w) => w.sizeBytes));
  notes.push(`objects: ${ownWrites.length} PUTs (${ownWrites.filter((w) => w.multipart).length} multipart), largest ${(largestBytes / 1048576).toFixed(1)} MiB, ${(ownWrites.reduce((sum, w) => sum + w.sizeBytes, 0) / 1048576).toFixed(1)} MiB in total`);
  const seconds = Math.round((Date.now() - startedAtMs) / 100) / 10;
  const line = `scenario ${scenario.name}: written ${written}, verified ${verifiedCount}, lost ${lost}, corrupt ${corrupt}, unavailable-during-fault ${unavailable}, healed ${healed}, seconds ${seconds}`;
  return {
    name: scenario.name, line, passed: failures.length === 0 && lost === 0 && corrupt === 0,
    written, verified: verifiedCount, lost, corrupt, unavailableDuringFault: unavailable, healed, seconds,
    belowFullStripeCount, failures, awaitingHealer, notes,
  };
}

/**
 * With a healer: waits (bounded) until no stripe on disk has fewer than k+m shard files and the
 * healer's backlog is empty, else fails. Without: reports how many stripes are below full
 * redundancy. Redundancy is the metadata's placement checked against the disks (placement-check.ts),
 * so garbage on disk does not count.
 */
async function awaitRedundancy(context: ScenarioContext, healer: HealerProcess, profile: DurabilityProfile, awaitingHealer: string[], failures: string[]): Promise<number> {
  const before = new Set(await context.belowFullStripeIds());
  if (!healer.running) {
    if (before.size > 0) awaitingHealer.push(`${before.size} stripe(s) below full redundancy (${shardCount} shards) after the fault: rebuild awaits the healer (${healer.absentReason ?? ''})`);
    return before.size;
  }
  const deadlineMs = Date.now() + profile.healWaitMsMax;
  let now = before;
  // Work the healer knows of: stripes in its backlog, and queued repairs it holds until a node answers.
  const healerWork = async (): Promise<number> => {
    const status = await healer.status();
    return (status?.backlogStripes ?? 0) + (status?.repairsAwaitingNodes ?? 0);
  };
  let pendingWork = await healerWork();
  const healStallMs = profile.healStallMs;
  // Stop early when nothing changes for healStallMs with no healer work pending: the healer is
  // not working on it, and waiting out the whole bound in every later scenario would only
  // stretch the run.
  let lastChangeMs = Date.now();
  while ((now.size > 0 || pendingWork > 0) && Date.now() < deadlineMs && (pendingWork > 0 || Date.now() - lastChangeMs < healStallMs)) {
    await sleep(500);
    const next = new Set(await context.belowFullStripeIds());
    if (next.size !== now.size) lastChangeMs = Date.now();
    now = next;
    pendingWork = await healerWork();
  }
  if (now.size > 0) failures.push(`${now.size} stripe(s) still below full redundancy (metadata placement vs disk) after healing (bound ${profile.healWaitMsMax} ms, stops after ${healStallMs} ms without progress) (e.g. ${context.placementExamples().slice(0, 3).join('; ')})`);
  if (pendingWork > 0) failures.push(`healer backlog and repairs awaiting nodes still ${pendingWork} after ${profile.healWaitMsMax} ms`);
  return now.size;
}

interface Verification {
  readonly readableKeys: readonly string[];
  readonly unreadableKeys: readonly string[];
}

/** Reads back every key ever written (retrying errors a bounded number of times). */
async function verifyEverything(cluster: ClusterHandle, scenario: string): Promise<Verification> {
  const readableKeys: string[] = [];
  const unreadableKeys: string[] = [];
  for (const key of cluster.history.keys()) {
    let readable = false;
    for (let attempt = 0; attempt < finalReadAttemptCountMax && !readable; attempt++) {
      if (attempt > 0) await sleep(finalReadRetryDelayMs);
      const observed = await cluster.recorder.get(scenario, key);
      readable = observed.kind !== 'error';
    }
    if (readable) readableKeys.push(key);
    else unreadableKeys.push(key);
  }
  await cluster.recorder.list(scenario, '');
  return { readableKeys, unreadableKeys };
}

export type { Violation };
