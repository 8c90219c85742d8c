// Goal: the durability scenarios against the cluster as Docker containers of the project image
// (deploy/docker/build-image.sh), with container-level faults: docker kill -s KILL / stop /
// start, docker network disconnect / connect for the partition, file operations in the bind-
// mounted volumes. Method: ContainerCluster (3 metadata, 9 storage nodes in 3 AZs, gateway,
// healer; internal network; S3 published on 127.0.0.1 only), the same runner, workload and
// history checker as local mode. In `npm test` (short profile) a reduced set runs
// (containerScenarioNamesCi); TESSERA_DURABILITY_CONTAINERS=full (`npm run test:durability --
// --containers`) runs every scenario that has a container mode; =off skips. Skipped, with the
// reason printed, when no Docker engine is reachable.
import * as path from 'node:path';
import { acquireSuiteLock, containerScenarioNamesCi, ContainerCluster, dockerUnavailableReason, durabilityProfile, forContainers, scenarioRunOrder, summaryTable } from '../src/index';
import type { HealerProcess, ScenarioResult, SuiteLock } from '../src/index';
import { checkScenario } from './support/check-scenario';

const setting = process.env['TESSERA_DURABILITY_CONTAINERS'] ?? 'ci';
const skipReason = setting === 'off' ? 'TESSERA_DURABILITY_CONTAINERS=off' : dockerUnavailableReason();
if (skipReason !== undefined) process.stdout.write(`durability (containers) SKIPPED: ${skipReason}\n`);

const profile = forContainers(durabilityProfile(process.env['TESSERA_DURABILITY_PROFILE']));
const seed = Number(process.env['SEED'] ?? Date.now() % 1_000_000);
const keepDataDir = process.env['TESSERA_DURABILITY_KEEP_DIR'] === '1';
const onlyScenarios = (process.env['TESSERA_DURABILITY_SCENARIOS'] ?? '').split(',').filter((name) => name !== '');
const wanted = onlyScenarios.length > 0 ? onlyScenarios : setting === 'full' ? undefined : containerScenarioNamesCi;
const selectedScenarios = scenarioRunOrder.filter((s) => s.modes.includes('containers') && (wanted === undefined || wanted.includes(s.name)));
const scenarioTimeoutMs = profile.name === 'full' ? 1_200_000 : 240_000;
// The local-process suite (test/durability.test.ts) may hold the machine first: wait for it.
const lockWaitMsMax = profile.name === 'full' ? 3_600_000 : 900_000;

(skipReason === undefined ? describe : describe.skip)(`durability in containers (${profile.name} profile, ${setting === 'full' ? 'all container scenarios' : 'CI set'}, SEED=${seed})`, () => {
  let cluster: ContainerCluster | undefined;
  let healer: HealerProcess | undefined;
  let lock: SuiteLock | undefined;
  const results: ScenarioResult[] = [];
  let startedAtMs = Date.now();

  beforeAll(async () => {
    lock = await acquireSuiteLock('containers', lockWaitMsMax);
    if (lock.waitedMs > 1_000) process.stdout.write(`durability (containers): waited ${Math.round(lock.waitedMs / 1000)} s for the local suite to finish\n`);
    startedAtMs = Date.now();
    const image = process.env['TESSERA_DURABILITY_IMAGE'];
    cluster = await ContainerCluster.start(profile, { repoRoot: path.resolve(__dirname, '..', '..'), buildEnv: process.env, ...(image === undefined || image === '' ? {} : { image }) });
    healer = cluster.healer();
    process.stdout.write(`durability (containers): profile ${profile.name}, SEED=${seed}, image ${cluster.image}, ${Math.round((Date.now() - startedAtMs) / 1000)} s to build and start, healer: ${healer.running ? 'running' : healer.absentReason ?? ''}, partition method: ${cluster.partitioner.description}\n`);
  }, lockWaitMsMax + 420_000);

  afterAll(async () => {
    await cluster?.stop(keepDataDir);
    lock?.release();
    if (keepDataDir && cluster !== undefined) process.stdout.write(`durability (containers): volumes and logs kept at ${cluster.rootDir}\n`);
    if (results.length > 0) process.stdout.write(`\n${summaryTable(`${profile.name}, containers`, results, Math.round((Date.now() - startedAtMs) / 1000))}\n`);
    // Teardown is bounded by its own steps: a pending restart (60 s), 30 s to list and 120 s to
    // remove the containers, 80 s for the networks, 60 s to remove the image. Docker on a busy
    // 2-core machine once took more than the 180 s this hook had.
  }, 400_000);

  test('every requested scenario has a container mode', () => {
    expect(selectedScenarios.map((s) => s.name).sort()).toEqual([...(wanted ?? scenarioRunOrder.filter((s) => s.modes.includes('containers')).map((s) => s.name))].sort());
  });

  for (const [index, scenario] of selectedScenarios.entries()) {
    test(`scenario ${scenario.name} (containers): ${scenario.description}`, async () => {
      if (cluster === undefined || healer === undefined) throw new Error('cluster did not start');
      await checkScenario(cluster, profile, scenario, seed + index, healer, results);
    }, scenarioTimeoutMs);
  }
});
