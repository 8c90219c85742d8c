// Goal: prove the durability promise end to end: no acknowledged write is lost or corrupted, and
// reads, writes and listings stay linearizable-enough (history checker) under each fault of issue
// 7. Method: one real cluster (3 metadata, 9 storage nodes in 3 AZs, gateway) as child processes
// on probed loopback ports in a temp dir, shared by the eleven scenarios in a fixed order; each
// scenario runs a seeded S3 workload, injects its fault, restores the cluster, reads back every
// key ever written and prints its one-line verdict. Profile from TESSERA_DURABILITY_PROFILE
// (short by default, full for `npm run test:durability`); SEED overrides the seed.
// (The package is imported by path: jest maps @tessera/* to packages/*, and test-cluster/ sits
// outside packages/.)
import { readFileSync } from 'node:fs';
import { acquireSuiteLock, DurabilityCluster, durabilityProfile, scenarioRunOrder, startHealerIfBuilt, summaryTable } from '../src/index';
import type { HealerProcess, ScenarioResult, SuiteLock } from '../src/index';
import { checkScenario } from './support/check-scenario';

const profile = durabilityProfile(process.env['TESSERA_DURABILITY_PROFILE']);
const seed = Number(process.env['SEED'] ?? Date.now() % 1_000_000);
// Set to keep the cluster's data dir and logs (logs/<process>.log, logs/healer.log) after the run.
const keepDataDir = process.env['TESSERA_DURABILITY_KEEP_DIR'] === '1';
// Comma-separated scenario names to run only those (debugging); all by default.
const onlyScenarios = (process.env['TESSERA_DURABILITY_SCENARIOS'] ?? '').split(',').filter((name) => name !== '');
const selectedScenarios = scenarioRunOrder.filter((s) => onlyScenarios.length === 0 || onlyScenarios.includes(s.name));
// 'sigstop' forces the SIGSTOP fallback for scenario 5; by default the cluster runs in a network
// namespace of its own when one can be created (root, ip, iptables) and the leader is cut off by iptables.
const partition = process.env['TESSERA_DURABILITY_PARTITION'] === 'sigstop' ? 'sigstop' : 'auto';
const scenarioTimeoutMs = profile.name === 'full' ? 900_000 : 150_000;
// The container suite (test/durability-containers.test.ts) may hold the machine first: wait for it.
const lockWaitMsMax = profile.name === 'full' ? 3_600_000 : 900_000;

/** Log lines of each metadata node printed when a scenario fails: CI keeps no data dir, so its elections are explained here. */
const metadataLogTailLines = 40;

function printMetadataLogTails(cluster: DurabilityCluster): void {
  for (const node of cluster.cluster.layout.metadata) {
    let text: string;
    try {
      text = readFileSync(node.logPath, 'utf8');
    } catch {
      continue;
    }
    const lines = text.trimEnd().split('\n').slice(-metadataLogTailLines);
    process.stdout.write(`--- the last ${lines.length} lines of ${node.name}'s log\n${lines.join('\n')}\n`);
  }
}

describe(`durability (${profile.name} profile, SEED=${seed})`, () => {
  let cluster: DurabilityCluster | undefined;
  let healer: HealerProcess | undefined;
  let lock: SuiteLock | undefined;
  const results: ScenarioResult[] = [];
  let startedAtMs = Date.now();

  beforeAll(async () => {
    lock = await acquireSuiteLock('local processes', lockWaitMsMax);
    if (lock.waitedMs > 1_000) process.stdout.write(`durability: waited ${Math.round(lock.waitedMs / 1000)} s for the container suite to finish\n`);
    startedAtMs = Date.now();
    cluster = await DurabilityCluster.start(profile, { PATH: process.env['PATH'] }, { partition });
    healer = await startHealerIfBuilt(cluster, profile.healerArgs);
    const method = cluster.partitionMethod;
    const partitionLine = method.kind === 'netns'
      ? `network namespace ${method.namespace.name} (processes on its loopback; iptables partitions)`
      : `SIGSTOP/SIGCONT FALLBACK, no network partition (${method.reason})`;
    process.stdout.write(`durability: profile ${profile.name}, SEED=${seed}, healer: ${healer.running ? 'running' : healer.absentReason ?? ''}, partition method: ${partitionLine}\n`);
  }, lockWaitMsMax + 120_000);

  afterAll(async () => {
    await healer?.stop();
    await cluster?.stop(keepDataDir);
    lock?.release();
    if (keepDataDir && cluster !== undefined) process.stdout.write(`durability: data dir kept at ${cluster.rootDir}\n`);
    if (results.length > 0) process.stdout.write(`\n${summaryTable(profile.name, results, Math.round((Date.now() - startedAtMs) / 1000))}\n`);
  }, 120_000);

  test('every requested scenario exists', () => {
    expect(selectedScenarios.map((s) => s.name).sort()).toEqual([...(onlyScenarios.length === 0 ? scenarioRunOrder.map((s) => s.name) : onlyScenarios)].sort());
  });

  for (const [index, scenario] of selectedScenarios.entries()) {
    test(`scenario ${scenario.name}: ${scenario.description}`, async () => {
      if (cluster === undefined || healer === undefined) throw new Error('cluster did not start');
      try {
        await checkScenario(cluster, profile, scenario, seed + index, healer, results);
      } catch (error) {
        printMetadataLogTails(cluster);
        throw error;
      }
    }, scenarioTimeoutMs);
  }
});
