// The simulator's command line (composition root: the only file here that reads argv).
//   npm run sim -- --seeds 10000 [--nodes 5] [--steps 2000] [--seed 1]
// Runs seeds seed, seed+1, ... and prints a markdown summary; on the first failure prints it
// (message starts with SEED=<n>) and exits 1. `--seed <n> --seeds 1` replays one seed.
import type { SimulationReport } from './simulator';
import { runSimulation, SimulationFailure } from './simulator';

interface CliOptions {
  seedCount: number;
  firstSeed: number;
  nodeCount: number;
  stepCount: number;
  keepGoing: boolean;
}

function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = { seedCount: 100, firstSeed: 1, nodeCount: 3, stepCount: 2000, keepGoing: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    const takeValue = (): number => {
      if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${flag} needs a non-negative integer`);
      i += 1;
      return value;
    };
    switch (flag) {
      case '--seeds':
        options.seedCount = takeValue();
        break;
      case '--seed':
        options.firstSeed = takeValue();
        break;
      case '--nodes':
        options.nodeCount = takeValue();
        break;
      case '--steps':
        options.stepCount = takeValue();
        break;
      case '--keep-going':
        options.keepGoing = true;
        break;
      default:
        throw new Error(`unknown argument ${flag}; usage: --seeds N [--nodes 3|5] [--steps N] [--seed S] [--keep-going]`);
    }
  }
  return options;
}

function main(): number {
  const options = parseArgs(process.argv.slice(2));
  const startMs = performance.now();
  const reports: SimulationReport[] = [];
  const failures: SimulationFailure[] = [];
  for (let seed = options.firstSeed; seed < options.firstSeed + options.seedCount; seed++) {
    try {
      reports.push(runSimulation({ seed, nodeCount: options.nodeCount, stepCount: options.stepCount }));
    } catch (err) {
      if (!(err instanceof SimulationFailure)) throw err;
      failures.push(err);
      console.error(err.message);
      if (!options.keepGoing) break;
    }
    if ((seed - options.firstSeed + 1) % 500 === 0) console.error(`... ${seed - options.firstSeed + 1} seeds`);
  }
  const elapsedS = (performance.now() - startMs) / 1000;
  const sum = (pick: (report: SimulationReport) => number): number => reports.reduce((total, report) => total + pick(report), 0);
  const rows: [string, string | number][] = [
    ['nodes', options.nodeCount],
    ['steps per seed', options.stepCount],
    ['seeds passed', reports.length],
    ['seeds failed', failures.length],
    ['client operations', sum((r) => r.operationCount)],
    ['completed operations', sum((r) => r.completedOperationCount)],
    ['committed entries', sum((r) => r.committedEntryCount)],
    ['leader terms', sum((r) => r.leaderTermCount)],
    ['crashes (losing unsynced Ready)', `${sum((r) => r.crashCount)} (${sum((r) => r.unsyncedLossCount)})`],
    ['partitions', sum((r) => r.partitionCount)],
    ['membership changes', sum((r) => r.membershipChangeCount)],
    ['snapshots installed', sum((r) => r.snapshotInstallCount)],
    ['messages sent / dropped / duplicated', `${sum((r) => r.network.sentCount)} / ${sum((r) => r.network.droppedCount)} / ${sum((r) => r.network.duplicatedCount)}`],
    ['linearizability unknown (work bound)', reports.filter((r) => r.linearizability === 'unknown').length],
    ['wall time (s)', elapsedS.toFixed(1)],
    ['seeds per second', (reports.length / elapsedS).toFixed(1)],
  ];
  console.log('| metric | value |\n|---|---|');
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = main();
