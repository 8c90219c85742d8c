/**
 * The durability suite's cluster as Docker containers of the project image
 * (deploy/docker/build-image.sh): 3 metadata nodes, 9 storage nodes in 3 AZs, the gateway and
 * the healer, each in its own container, all on an `--internal` network (no route off the
 * bridge). Only the gateway also joins a second network so Docker can publish its S3 port, on
 * 127.0.0.1 only (Docker ignores published ports of containers that are only on an internal
 * network). Process names and timing flags are those of local mode.
 *
 * Fault injectors: `docker kill -s KILL` (then `docker start`, as an orchestrator would
 * restart it), `docker stop` / `start`, `docker pause` / `unpause`, `docker network disconnect`
 * / `connect` (a real partition: the container loses its only cluster interface), and file
 * operations on the storage nodes' data directories, which are bind mounts of directories in
 * this run's temp dir (bitrot, a lost disk).
 *
 * Observation (nothing else is published): an observer container on the internal network and
 * one `docker exec` session per metadata container (container-observer.ts), which still
 * answers when its container is cut off from the network.
 *
 * Every container, network and the image built for the run carry the label
 * `tessera.durability.run=<id>`; `stop()` removes them, an 'exit' hook does too when the test
 * process dies first, and `start()` first sweeps those of earlier runs whose process is gone.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { MetadataClient } from '@tessera/rpc';
import type { ClusterHandle, MetadataNodeView, NetworkPartitioner, StorageNodeInfo } from './cluster-handle';
import { ObserverSession } from './container-observer';
import { bucketName, downAfterMs, gcIntervalMs, retry, sleep, storageHeartbeatIntervalMs, suspectAfterMs, waitFor } from './durability-cluster';
import type { HealerProcess, HealerStatusView } from './healer-integration';
import { healerMainPath, parseHealerStatus } from './healer-integration';
import { History } from './history';
import { placementReport } from './placement-check';
import type { PlacementReport } from './placement-check';
import type { DurabilityProfile } from './profile';
import { createS3Client, S3Recorder } from './s3-recorder';
import { listShardFiles } from './shard-files';
import { processIsAlive } from './suite-lock';

const zones = ['az-a', 'az-b', 'az-c'] as const;
const storageNodesPerZoneCount = 3;
const metadataPort = 7000;
const storagePort = 7100;
const s3Port = 9000;
const metricsPort = 9090;
/** The image runs as user `node` (uid 1000); bind-mounted data dirs must belong to it. */
const imageUid = 1000;
const runLabel = 'tessera.durability.run';
const ownerPidLabel = 'tessera.durability.owner-pid';
/** Like LocalCluster's restart backoff: kill -9 is a crash, and something restarts the process. */
const restartAfterKillMs = 200;

interface ContainerSpec {
  readonly name: string;
  readonly role: 'metadata' | 'storage' | 'gateway' | 'healer';
  readonly zone: string | undefined;
  /** Host directory bind-mounted at /data (metadata and storage nodes). */
  readonly dataDir: string | undefined;
  readonly command: readonly string[];
}

export interface ContainerClusterOptions {
  /** Use this image instead of building one (e.g. TESSERA_DURABILITY_IMAGE=tessera:dev). */
  readonly image?: string;
  readonly repoRoot: string;
  /** Environment for deploy/docker/build-image.sh (it runs npm and docker: PATH, HOME…). */
  readonly buildEnv: Readonly<Record<string, string | undefined>>;
}

/** Why container mode cannot run here, or undefined when a Docker engine answers. */
export function dockerUnavailableReason(): string | undefined {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 15_000 });
    return undefined;
  } catch {
    return 'no Docker engine reachable (`docker info` failed; .ci/setup-system.sh installs and starts one)';
  }
}

export function docker(args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return dockerOutput(args, timeoutMs).then((out) => out.stdout);
}

function dockerOutput(args: readonly string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('docker', [...args], { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`docker ${args.slice(0, 3).join(' ')} failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || error.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

export class ContainerCluster implements ClusterHandle {
  readonly mode = 'containers' as const;
  readonly history = new History();
  readonly recorder: S3Recorder;
  readonly partitioner: NetworkPartitioner;
  private readonly metadataSessions = new Map<string, ObserverSession>();
  private pendingRestarts: Array<Promise<void>> = [];
  /** The metadata node currently disconnected from the cluster network, if any. */
  private isolated: string | undefined;
  private readonly removeOnExit = (): void => removeRunResourcesSync(this.runId);

  private constructor(
    readonly runId: string,
    readonly rootDir: string,
    readonly image: string,
    private readonly imageBuilt: boolean,
    readonly clusterNetwork: string,
    private readonly specs: readonly ContainerSpec[],
    private observer: ObserverSession,
    readonly s3: S3Client,
    readonly s3Endpoint: string,
  ) {
    this.recorder = new S3Recorder(s3, bucketName, this.history);
    this.partitioner = {
      description: `docker network disconnect/connect of the container from the internal network ${clusterNetwork} (all its cluster traffic, both directions)`,
      isolate: async (processName) => {
        this.isolated = processName;
        await docker(['network', 'disconnect', '--force', clusterNetwork, this.containerName(processName)]);
      },
      heal: async () => {
        const name = this.isolated;
        if (name === undefined) return;
        this.isolated = undefined;
        await docker(['network', 'connect', '--alias', name, clusterNetwork, this.containerName(name)]);
      },
    };
    process.once('exit', this.removeOnExit);
  }

  /** Builds the image (unless given), creates the networks and containers, waits for readiness, creates the bucket. */
  static async start(profile: DurabilityProfile, options: ContainerClusterOptions): Promise<ContainerCluster> {
    await sweepAbandonedRuns();
    const runId = `${process.pid}-${randomBytes(3).toString('hex')}`;
    const prefix = `tessera-test-dur-${runId}`;
    const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-durability-containers-'));
    fs.chmodSync(rootDir, 0o755);
    const labels = ['--label', `${runLabel}=${runId}`, '--label', `${ownerPidLabel}=${process.pid}`];
    const removeOnFailure = (): void => {
      removeRunResourcesSync(runId);
      fs.rmSync(rootDir, { recursive: true, force: true });
    };
    try {
      const image = options.image ?? `tessera:durability-${runId}`;
      if (options.image === undefined) await buildImage(options.repoRoot, image, path.join(rootDir, 'image-context'), options.buildEnv);
      const clusterNetwork = `${prefix}-cluster`;
      const edgeNetwork = `${prefix}-edge`;
      await docker(['network', 'create', '--internal', ...labels, clusterNetwork]);
      await docker(['network', 'create', ...labels, edgeNetwork]);
      const credentials = { accessKeyId: `dur${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(24).toString('base64url') };
      const s3HostPort = await freeLoopbackPort();
      const specs = planContainers(rootDir, profile);
      for (const spec of specs) {
        if (spec.dataDir !== undefined) {
          fs.mkdirSync(spec.dataDir, { recursive: true });
          fs.chownSync(spec.dataDir, imageUid, imageUid);
        }
        const name = `${prefix}-${spec.name}`;
        const common = ['run', '-d', '--init', '--name', name, '--hostname', spec.name, ...labels, '--label', `tessera.durability.process=${spec.name}`];
        const volumes = spec.dataDir === undefined ? [] : ['-v', `${spec.dataDir}:/data`];
        if (spec.role === 'gateway') {
          // Created on the edge network (so the port is published, on 127.0.0.1 only), then joined to the cluster network.
          await docker([...common, '--network', edgeNetwork, '-p', `127.0.0.1:${s3HostPort}:${s3Port}`,
            '-e', `TESSERA_ROOT_ACCESS_KEY=${credentials.accessKeyId}`, '-e', `TESSERA_ROOT_SECRET_KEY=${credentials.secretAccessKey}`,
            image, ...spec.command]);
          await docker(['network', 'connect', '--alias', spec.name, clusterNetwork, name]);
        } else if (spec.role === 'healer') {
          // The image has no healer role yet: the host's built healer is mounted over /app/packages/healer/dist.
          await docker([...common, '--network', clusterNetwork, '--network-alias', spec.name,
            '-v', `${path.dirname(healerMainPath())}:/app/packages/healer/dist:ro`, image, ...spec.command]);
        } else {
          await docker([...common, '--network', clusterNetwork, '--network-alias', spec.name, ...volumes,
            ...(spec.zone === undefined ? [] : ['-e', `TESSERA_ZONE=${spec.zone}`]), image, ...spec.command]);
        }
      }
      const observer = ObserverSession.start(['run', '-i', '--rm', '--init', '--name', `${prefix}-observer`, ...labels, '--network', clusterNetwork, image]);
      const s3Endpoint = `http://127.0.0.1:${s3HostPort}`;
      const s3 = createS3Client({ endpoint: s3Endpoint, region: 'us-east-1', accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, bucket: bucketName }, 120_000);
      const cluster = new ContainerCluster(runId, rootDir, image, options.image === undefined, clusterNetwork, specs, observer, s3, s3Endpoint);
      try {
        await cluster.waitReady(180_000);
        await retry(() => s3.send(new CreateBucketCommand({ Bucket: bucketName })), 20, 500);
      } catch (err) {
        await cluster.stop();
        throw err;
      }
      return cluster;
    } catch (err) {
      removeOnFailure();
      throw err;
    }
  }

  containerName(processName: string): string {
    return `tessera-test-dur-${this.runId}-${processName}`;
  }

  storageNodes(): readonly StorageNodeInfo[] {
    return this.specs.filter((s) => s.role === 'storage').map((s) => ({ name: s.name, zone: s.zone, dataDir: s.dataDir }));
  }

  metadataNodeNames(): readonly string[] {
    return this.specs.filter((s) => s.role === 'metadata').map((s) => s.name);
  }

  /** Cluster processes (the healer, as in local mode, is not one of them). */
  processNames(): readonly string[] {
    return this.specs.filter((s) => s.role !== 'healer').map((s) => s.name);
  }

  zoneProcessNames(zone: string): readonly string[] {
    return this.specs.filter((s) => s.zone === zone && s.role !== 'healer').map((s) => s.name);
  }

  async killProcess(name: string): Promise<void> {
    await docker(['kill', '-s', 'KILL', this.containerName(name)]);
    this.restartLater([name]);
  }

  async killEverything(): Promise<void> {
    const names = this.processNames();
    await docker(['kill', '-s', 'KILL', ...names.map((n) => this.containerName(n))]);
    this.restartLater(names);
  }

  async stopProcess(name: string): Promise<void> {
    await docker(['stop', '-t', '5', this.containerName(name)], 30_000);
  }

  async startProcess(name: string): Promise<void> {
    await docker(['start', this.containerName(name)]);
  }

  async pauseProcess(name: string): Promise<void> {
    await docker(['pause', this.containerName(name)]);
  }

  async resumeProcess(name: string): Promise<void> {
    await docker(['unpause', this.containerName(name)]);
  }

  wipeDisk(name: string): void {
    const spec = this.specs.find((s) => s.name === name);
    if (spec?.dataDir === undefined) throw new Error(`${name} has no data dir`);
    fs.rmSync(spec.dataDir, { recursive: true, force: true });
    fs.mkdirSync(spec.dataDir, { recursive: true });
    fs.chownSync(spec.dataDir, imageUid, imageUid);
  }

  async waitReady(timeoutMs: number): Promise<void> {
    await Promise.all(this.pendingRestarts);
    this.pendingRestarts = [];
    const names = this.specs.map((s) => s.name);
    let notReady: string[] = names;
    await waitFor(async () => {
      const ready = await Promise.all(names.map(async (name) => this.isReady(name)));
      notReady = names.filter((_n, i) => ready[i] !== true);
      return notReady.length === 0 ? true : undefined;
    }, timeoutMs, 'every container ready').catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; not ready: ${notReady.join(', ')}`);
    });
  }

  async restoreAll(timeoutMs: number): Promise<void> {
    await Promise.all(this.pendingRestarts);
    this.pendingRestarts = [];
    await this.partitioner.heal();
    const states = await this.containerStates();
    for (const spec of this.specs) {
      const state = states.get(this.containerName(spec.name));
      if (state === 'paused') await docker(['unpause', this.containerName(spec.name)]);
      else if (state !== 'running') await docker(['start', this.containerName(spec.name)]);
    }
    await this.waitReady(timeoutMs);
    await waitFor(async () => ((await this.metadataViews()).some((v) => v.role === 'leader') ? true : undefined), timeoutMs, 'a metadata leader');
  }

  async metadataViews(skipNames: ReadonlySet<string> = new Set()): Promise<MetadataNodeView[]> {
    const views = await Promise.all(this.metadataNodeNames().filter((n) => !skipNames.has(n)).map(async (name) => {
      try {
        const answer = await this.metadataSession(name).status(`127.0.0.1:${metadataPort}`, 2_000);
        return { name, ...answer };
      } catch {
        return undefined;
      }
    }));
    return views.filter((v): v is MetadataNodeView => v !== undefined);
  }

  placementReport(): Promise<PlacementReport> {
    const addresses = this.metadataNodeNames().map((n) => `${n}:${metadataPort}`);
    const lister = {
      listNodeShards: (request: Parameters<MetadataClient['listNodeShards']>[0]) =>
        this.liveObserver().listNodeShards(addresses, request) as ReturnType<MetadataClient['listNodeShards']>,
    };
    const files = this.storageNodes().flatMap((n) => listShardFiles(n.name, n.dataDir ?? ''));
    return placementReport(lister, this.storageNodes(), files);
  }

  /** The healer container, seen through the observer (its admin port is not published). */
  healer(): HealerProcess {
    if (!this.specs.some((s) => s.role === 'healer')) {
      return { running: false, absentReason: `healer not built (${healerMainPath()} missing)`, status: async () => undefined, stop: async () => undefined };
    }
    const url = `http://healer:${metricsPort}/admin/status`;
    return {
      running: true,
      absentReason: undefined,
      status: async (): Promise<HealerStatusView | undefined> => {
        try {
          const answer = await this.liveObserver().httpGet(url, 2_000);
          return answer.status === 200 ? parseHealerStatus(JSON.parse(answer.body) as unknown) : undefined;
        } catch {
          return undefined;
        }
      },
      stop: async () => {
        await docker(['stop', '-t', '5', this.containerName('healer')], 30_000).catch(() => undefined);
      },
    };
  }

  /** The last lines of a container's log (for failure messages). */
  async logTail(processName: string, lineCount = 20): Promise<string> {
    // The mains log to stderr (JSON lines) and print events on stdout; docker keeps both.
    return dockerOutput(['logs', '--tail', String(lineCount), this.containerName(processName)], 60_000)
      .then((out) => `${out.stdout}${out.stderr}`, (err: unknown) => String(err));
  }

  async stop(keepDataDir = false): Promise<void> {
    this.s3.destroy();
    this.observer.close();
    for (const session of this.metadataSessions.values()) session.close();
    await Promise.all(this.pendingRestarts.map((p) => p.catch(() => undefined)));
    if (keepDataDir) {
      const logDir = path.join(this.rootDir, 'logs');
      fs.mkdirSync(logDir, { recursive: true });
      for (const spec of this.specs) fs.writeFileSync(path.join(logDir, `${spec.name}.log`), await this.logTail(spec.name, 100_000));
    }
    removeRunResourcesSync(this.runId);
    if (this.imageBuilt) await docker(['rmi', '-f', this.image]).catch(() => undefined);
    process.removeListener('exit', this.removeOnExit);
    if (!keepDataDir) fs.rmSync(this.rootDir, { recursive: true, force: true });
  }

  private restartLater(names: readonly string[]): void {
    this.pendingRestarts.push((async () => {
      await sleep(restartAfterKillMs);
      await docker(['start', ...names.map((n) => this.containerName(n))]);
    })());
  }

  private async isReady(name: string): Promise<boolean> {
    try {
      const answer = await this.liveObserver().httpGet(`http://${name}:${metricsPort}/health/ready`, 1_500);
      return answer.status === 200;
    } catch {
      return false;
    }
  }

  private liveObserver(): ObserverSession {
    if (!this.observer.alive) {
      this.observer = ObserverSession.start(['run', '-i', '--rm', '--init', '--label', `${runLabel}=${this.runId}`, '--label', `${ownerPidLabel}=${process.pid}`, '--network', this.clusterNetwork, this.image]);
    }
    return this.observer;
  }

  /** `docker exec -i` into the metadata node's own container: answers even while it is cut off from the network. */
  private metadataSession(name: string): ObserverSession {
    const existing = this.metadataSessions.get(name);
    if (existing !== undefined && existing.alive) return existing;
    const session = ObserverSession.start(['exec', '-i', this.containerName(name)]);
    this.metadataSessions.set(name, session);
    return session;
  }

  private async containerStates(): Promise<Map<string, string>> {
    const out = await docker(['ps', '-a', '--filter', `label=${runLabel}=${this.runId}`, '--format', '{{.Names}} {{.State}}']);
    return new Map(out.split('\n').filter((l) => l !== '').map((l) => {
      const [name, state] = l.split(' ');
      return [name ?? '', state ?? ''];
    }));
  }
}

function planContainers(rootDir: string, profile: DurabilityProfile): ContainerSpec[] {
  const metadataNames = zones.map((_z, i) => `meta-${i + 1}`);
  const metadataList = metadataNames.map((n) => `${n}:${metadataPort}`).join(',');
  const peers = metadataNames.map((n) => `${n}=${n}:${metadataPort}`).join(',');
  const listen = (port: number): string[] => ['--listen', `0.0.0.0:${port}`, '--metrics-listen', `0.0.0.0:${metricsPort}`];
  const metadata = zones.map((zone, i): ContainerSpec => {
    const name = metadataNames[i] ?? '';
    return {
      name, role: 'metadata', zone, dataDir: path.join(rootDir, 'volumes', name),
      command: ['metadata', '--node-id', name, ...listen(metadataPort), '--peers', peers, '--data-dir', '/data', '--log-level', 'info',
        '--suspect-after-ms', String(suspectAfterMs), '--down-after-ms', String(downAfterMs)],
    };
  });
  const storage = zones.flatMap((zone) => Array.from({ length: storageNodesPerZoneCount }, (_unused, k): ContainerSpec => {
    const name = `storage-${zone}-${k + 1}`;
    return {
      name, role: 'storage', zone, dataDir: path.join(rootDir, 'volumes', name),
      command: ['storage', '--node-id', name, '--zone', zone, ...listen(storagePort), '--advertise', `${name}:${storagePort}`, '--data-dir', '/data',
        '--metadata', metadataList, '--log-level', 'info', '--heartbeat-interval-ms', String(storageHeartbeatIntervalMs)],
    };
  }));
  const gateway: ContainerSpec = {
    name: 'gateway', role: 'gateway', zone: undefined, dataDir: undefined,
    command: ['gateway', ...listen(s3Port), '--metadata', metadataList, '--region', 'us-east-1', '--log-level', 'info',
      '--gc-interval-ms', String(gcIntervalMs), '--read-hedge-after-ms', '300', '--shutdown-grace-ms', '2000'],
  };
  const healer: ContainerSpec = {
    name: 'healer', role: 'healer', zone: undefined, dataDir: undefined,
    command: ['node', '/app/packages/healer/dist/main.js', '--metadata', metadataList, '--metrics-listen', `0.0.0.0:${metricsPort}`, '--worker-id', 'durability-healer', ...profile.healerArgs],
  };
  // Without a built healer the checks that need it are reported as awaiting it, as in local mode.
  return [...metadata, ...storage, gateway, ...(fs.existsSync(healerMainPath()) ? [healer] : [])];
}

async function buildImage(repoRoot: string, tag: string, contextDir: string, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const script = path.join(repoRoot, 'deploy', 'docker', 'build-image.sh');
  await new Promise<void>((resolve, reject) => {
    execFile(script, ['--no-compile', '--tag', tag], { cwd: repoRoot, env: { ...env, TESSERA_IMAGE_CONTEXT: contextDir }, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`deploy/docker/build-image.sh failed: ${stderr.trim().split('\n').slice(-5).join(' | ') || error.message}`));
      else resolve();
    });
  });
  fs.rmSync(contextDir, { recursive: true, force: true });
}

/** Removes the containers and networks of a run (synchronous: also used from an 'exit' hook). */
function removeRunResourcesSync(runId: string): void {
  const filter = `label=${runLabel}=${runId}`;
  const startedMs = Date.now();
  const slowSteps: string[] = [];
  const timed = (what: string, step: () => void): void => {
    const stepStartedMs = Date.now();
    step();
    const tookMs = Date.now() - stepStartedMs;
    if (tookMs > 10_000) slowSteps.push(`${what} ${Math.round(tookMs / 1000)} s`);
  };
  try {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', filter], { encoding: 'utf8', timeout: 30_000 }).split('\n').filter((id) => id !== '');
    if (ids.length > 0) timed(`docker rm -f of ${ids.length} containers`, () => execFileSync('docker', ['rm', '-f', '-v', ...ids], { stdio: 'ignore', timeout: 120_000 }));
  } catch {
    // Best effort: the next run's sweep removes what is left.
  }
  // Docker may release a removed container's endpoints a moment later ("active endpoints"):
  // retry, for at most a minute (the next run's sweep removes what is left).
  timed('docker network rm', () => {
    const deadlineMs = Date.now() + 60_000;
    while (Date.now() < deadlineMs) {
      try {
        const networks = execFileSync('docker', ['network', 'ls', '-q', '--filter', filter], { encoding: 'utf8', timeout: 20_000 }).split('\n').filter((id) => id !== '');
        if (networks.length === 0) return;
        execFileSync('docker', ['network', 'rm', ...networks], { stdio: 'ignore', timeout: 20_000 });
        return;
      } catch {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      }
    }
  });
  if (slowSteps.length > 0) process.stdout.write(`durability (containers): teardown took ${Math.round((Date.now() - startedMs) / 1000)} s (${slowSteps.join(', ')})\n`);
}

/** Containers and networks of earlier runs whose test process is gone (a crashed run, or a network Docker would not release in time). */
async function sweepAbandonedRuns(): Promise<void> {
  const format = `{{.Label "${runLabel}"}} {{.Label "${ownerPidLabel}"}}`;
  const containers = await docker(['ps', '-a', '--filter', `label=${runLabel}`, '--format', format]);
  const networks = await docker(['network', 'ls', '--filter', `label=${runLabel}`, '--format', format]);
  const runs = new Set<string>();
  for (const line of `${containers}\n${networks}`.split('\n').filter((l) => l !== '')) {
    const [runId, pid] = line.split(' ');
    if (runId !== undefined && !processIsAlive(Number(pid))) runs.add(runId);
  }
  for (const runId of runs) removeRunResourcesSync(runId);
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
