// Goal: the Raft core keeps its safety properties (one leader per term, log matching, leader
// completeness, state-machine safety: checked after every step) and serves a linearizable
// key-value history under message loss, delay, reordering, duplication, partitions, crashes
// (with and without losing unsynced state, and losing the whole disk: the member comes back
// under its id, recovering from data loss), snapshots and membership changes. Method: the
// deterministic simulator over many seeds. SIM_SEEDS=<n> runs more seeds; SEED=<n> replays one
// (`SEED=123 npx jest packages/testkit/test/simulation`), with SIM_NODES=5 for 5-node seeds.
import type { SimulationReport } from '@tessera/testkit';
import { runSimulation, SimulationFailure } from '@tessera/testkit';

const seedCount3 = Number(process.env['SIM_SEEDS'] ?? 200);
const seedCount5 = Math.ceil(seedCount3 / 3);
const stepCount = Number(process.env['SIM_STEPS'] ?? 2000);
const replaySeed = process.env['SEED'];

function runSeeds(nodeCount: number, seeds: readonly number[]): SimulationReport[] {
  // runSimulation throws SimulationFailure with "SEED=<n>" first in its message.
  return seeds.map((seed) => runSimulation({ seed, nodeCount, stepCount }));
}

function summarize(reports: readonly SimulationReport[]): Record<string, number> {
  const sum = (pick: (report: SimulationReport) => number): number => reports.reduce((total, report) => total + pick(report), 0);
  return {
    completedOperationCount: sum((r) => r.completedOperationCount),
    leaderTermCount: sum((r) => r.leaderTermCount),
    crashCount: sum((r) => r.crashCount),
    unsyncedLossCount: sum((r) => r.unsyncedLossCount),
    diskLossCount: sum((r) => r.diskLossCount),
    partitionCount: sum((r) => r.partitionCount),
    membershipChangeCount: sum((r) => r.membershipChangeCount),
    snapshotInstallCount: sum((r) => r.snapshotInstallCount),
    duplicatedCount: sum((r) => r.network.duplicatedCount),
    unknownCount: reports.filter((r) => r.linearizability === 'unknown').length,
  };
}

const range = (first: number, count: number): number[] => Array.from({ length: count }, (_, i) => first + i);

describe('deterministic simulation', () => {
  if (replaySeed !== undefined) {
    test(`replay SEED=${replaySeed}`, () => {
      runSeeds(Number(process.env['SIM_NODES'] ?? 3), [Number(replaySeed)]);
    });
    return;
  }

  test(`3-node clusters: ${seedCount3} seeds x ${stepCount} steps`, () => {
    const summary = summarize(runSeeds(3, range(1, seedCount3)));
    // The runs must actually exercise what they claim to (a quiet run proves nothing).
    expect(summary['completedOperationCount']).toBeGreaterThan(seedCount3 * 100);
    const exercised = ['leaderTermCount', 'crashCount', 'unsyncedLossCount', 'diskLossCount', 'partitionCount', 'membershipChangeCount', 'snapshotInstallCount', 'duplicatedCount'];
    expect(exercised.filter((key) => !(Number(summary[key]) > 0))).toEqual([]);
    expect(summary['unknownCount']).toBe(0);
  });

  test(`5-node clusters: ${seedCount5} seeds x ${stepCount} steps`, () => {
    const summary = summarize(runSeeds(5, range(100_001, seedCount5)));
    expect(summary['completedOperationCount']).toBeGreaterThan(seedCount5 * 100);
    expect(summary['crashCount']).toBeGreaterThan(0);
    expect(summary['membershipChangeCount']).toBeGreaterThan(0);
    expect(summary['unknownCount']).toBe(0);
  });

  test('a seed replays exactly', () => {
    const first = runSimulation({ seed: 4242, nodeCount: 3, stepCount: 1000 });
    const second = runSimulation({ seed: 4242, nodeCount: 3, stepCount: 1000 });
    expect(second).toEqual(first);
    const other = runSimulation({ seed: 4243, nodeCount: 3, stepCount: 1000 });
    expect(other).not.toEqual(first);
  });

  test('a failure names its seed first', () => {
    const failure = new SimulationFailure(77, 'election safety: ...');
    expect(failure.message.startsWith('SEED=77 ')).toBe(true);
    expect(failure.seed).toBe(77);
  });
});
