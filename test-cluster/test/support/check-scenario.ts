import { runScenario } from '../../src/index';
import type { DurabilityProfile, HealerProcess, ScenarioResult } from '../../src/index';

type Cluster = Parameters<typeof runScenario>[0];
type Scenario = Parameters<typeof runScenario>[2];

/**
 * One scenario as both durability suites run it (local processes or containers): run it, print
 * its one-line result with notes, and fail on any failure, lost or corrupt object, or a run that
 * wrote and verified nothing. The result is also kept in `results` for the summary table.
 */
export async function checkScenario(
  cluster: Cluster, profile: DurabilityProfile, scenario: Scenario, seed: number, healer: HealerProcess, results: ScenarioResult[],
): Promise<void> {
  const result = await runScenario(cluster, profile, scenario, seed, healer);
  results.push(result);
  process.stdout.write(`${result.line}\n`);
  for (const note of result.notes) process.stdout.write(`  note: ${note}\n`);
  for (const pending of result.awaitingHealer) process.stdout.write(`  awaits healer: ${pending}\n`);
  for (const failure of result.failures) process.stdout.write(`  FAILED: ${failure}\n`);
  expect(result.failures).toEqual([]);
  expect(result.lost).toBe(0);
  expect(result.corrupt).toBe(0);
  expect(result.written + result.verified).toBeGreaterThan(0);
}
