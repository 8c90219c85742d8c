// Goal: prove the durability promise end to end: no acknowledged write is lost or corrupted, and
// reads, writes and listings stay linearizable-enough (history checker) under each fault of issue
// 7. Method: one real cluster (3 metadata, 9 storage nodes in 3 AZs, gateway) as child processes
// on probed loopback ports in a temp dir, shared by the nine scenarios in a fixed order; each
// scenario runs a seeded S3 workload, injects its fault, restores the cluster, reads back every
// key ever written and prints its one-line verdict. Profile from TESSERA_DURABILITY_PROFILE
// (short by default, full for `npm run test:durability`); SEED overrides the seed.
// (The package is imported by path: jest maps @tessera/* to packages/*, and test-cluster/ sits
// outside packages/.)
import { DurabilityCluster, durabilityProfile, runScenario, scenarioRunOrder, startHealerIfBuilt, summaryTable } from '../src/index';
import type { HealerProcess, ScenarioResult } from '../src/index';

const profile = durabilityProfile(process.env['TESSERA_DURABILITY_PROFILE']);
const seed = Number(process.env['SEED'] ?? Date.now() % 1_000_000);
// Set to keep the cluster's data dir and logs (logs/<process>.log, logs/healer.log) after the run.
const keepDataDir = process.env['TESSERA_DURABILITY_KEEP_DIR'] === '1';
// Comma-separated scenario names to run only those (debugging); all by default.
const onlyScenarios = (process.env['TESSERA_DURABILITY_SCENARIOS'] ?? '').split(',').filter((name) => name !== '');
const selectedScenarios = scenarioRunOrder.filter((s) => onlyScenarios.length === 0 || onlyScenarios.includes(s.name));
const scenarioTimeoutMs = profile.name === 'full' ? 900_000 : 150_000;

describe(`durability (${profile.name} profile, SEED=${seed})`, () => {
  let cluster: DurabilityCluster | undefined;
  let healer: HealerProcess | undefined;
  const results: ScenarioResult[] = [];
  const startedAtMs = Date.now();

  beforeAll(async () => {
    cluster = await DurabilityCluster.start(profile, { PATH: process.env['PATH'] });
    healer = await startHealerIfBuilt(cluster, profile.healerArgs);
    process.stdout.write(`durability: profile ${profile.name}, SEED=${seed}, healer: ${healer.running ? 'running' : healer.absentReason ?? ''}\n`);
  }, 120_000);

  afterAll(async () => {
    await healer?.stop();
    await cluster?.stop(keepDataDir);
    if (keepDataDir && cluster !== undefined) process.stdout.write(`durability: data dir kept at ${cluster.rootDir}\n`);
    if (results.length > 0) process.stdout.write(`\n${summaryTable(profile.name, results, Math.round((Date.now() - startedAtMs) / 1000))}\n`);
  }, 120_000);

  test('every requested scenario exists', () => {
    expect(selectedScenarios.map((s) => s.name).sort()).toEqual([...(onlyScenarios.length === 0 ? scenarioRunOrder.map((s) => s.name) : onlyScenarios)].sort());
  });

  for (const [index, scenario] of selectedScenarios.entries()) {
    test(`scenario ${scenario.name}: ${scenario.description}`, async () => {
      if (cluster === undefined || healer === undefined) throw new Error('cluster did not start');
      const result = await runScenario(cluster, profile, scenario, seed + index, healer);
      results.push(result);
      process.stdout.write(`${result.line}\n`);
      for (const note of result.notes) process.stdout.write(`  note: ${note}\n`);
      for (const pending of result.awaitingHealer) process.stdout.write(`  awaits healer: ${pending}\n`);
      for (const failure of result.failures) process.stdout.write(`  FAILED: ${failure}\n`);
      expect(result.failures).toEqual([]);
      expect(result.lost).toBe(0);
      expect(result.corrupt).toBe(0);
      expect(result.written + result.verified).toBeGreaterThan(0);
    }, scenarioTimeoutMs);
  }
});
