/**
 * A whole Tessera cluster on one machine as real child processes: one metadata node per zone,
 * N storage nodes per zone and an S3 gateway, each supervised (crash report, restart with
 * backoff), health-checked, and stopped in an order that avoids needless elections.
 *
 * Used by `tessera start` (npm start), by the CLI tests and by fault-injection suites, which
 * reach each child through `process(name)` to kill, stop or restart it.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { LogLevel } from '@tessera/common';
import { MetadataClient } from '@tessera/rpc';
import { allProcesses, planCluster } from './cluster-layout';
import type { ClusterLayout, ClusterLayoutOptions, PlannedProcess, ProcessRole } from './cluster-layout';
import { DataDirLock, isProcessAlive } from './data-dir-lock';
import { ClusterStoppedError, ReadyTimeoutError, RoleMainMissingError } from './errors';
import { httpGetStatus } from './health';
import { checkPortsFree } from './ports';
import { defaultRoleMainPath, flagsInHelp, roleMainExists } from './role-mains';
import type { RootCredentials } from './root-keys';
import { SupervisedProcess } from './supervised-process';
import type { RestartPolicy, SupervisedProcessState, SupervisorEvent } from './supervised-process';

export interface LocalClusterOptions extends ClusterLayoutOptions {
  readonly region: string;
  readonly rootCredentials: RootCredentials;
  /** Environment the children inherit; TESSERA_* variables are removed (flags say everything). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly logLevel: LogLevel;
  readonly restartPolicy: RestartPolicy;
  readonly healthCheckIntervalMs: number;
  /** Per storage node; undefined: the size of the disk. */
  readonly storageCapacityBytes?: number;
  /** 'required': a missing gateway build is an error; 'if-built': run without an S3 endpoint. */
  readonly gatewayMode: 'required' | 'if-built';
  /**
   * 'if-built': also run the healer (node-loss rebuild, scrubbing, orphan collection) when its
   * main is built; 'off' (the default): no healer, e.g. for suites that run their own.
   */
  readonly healerMode?: 'off' | 'if-built';
  readonly roleMainPaths?: Partial<Record<ProcessRole, string>>;
  /** Node binary for the children (default: this one). */
  readonly nodeExecPath: string;
  /** Extra flags per role, e.g. faster liveness timings in tests. */
  readonly extraArgs?: Partial<Record<ProcessRole, readonly string[]>>;
  readonly onEvent?: (event: LocalClusterEvent) => void;
}

export type LocalClusterEvent =
  | SupervisorEvent
  | { readonly kind: 'ready-changed'; readonly name: string; readonly ready: boolean }
  | { readonly kind: 'leftover-stopped'; readonly pid: number };

export interface ProcessStatus {
  readonly name: string;
  readonly role: ProcessRole;
  readonly zone: string | undefined;
  readonly state: SupervisedProcessState;
  readonly pid: number | undefined;
  /** /health/ready answered 200 at the last probe. */
  readonly ready: boolean;
  readonly restartCount: number;
  readonly listenAddress: string;
  readonly metricsAddress: string;
  readonly logPath: string;
}

export interface MetadataGroupStatus {
  readonly leaderId: string | undefined;
  readonly leaderAddress: string | undefined;
  readonly term: number;
  readonly commitIndex: number;
  /** Metadata nodes that answered GetClusterStatus. */
  readonly respondingNodeCount: number;
}

export interface LocalClusterStatus {
  readonly processes: readonly ProcessStatus[];
  readonly metadata: MetadataGroupStatus;
}

export class LocalCluster {
  readonly layout: ClusterLayout;
  private readonly processes = new Map<string, { planned: PlannedProcess; supervised: SupervisedProcess }>();
  private readonly readiness = new Map<string, boolean>();
  /** One kept-alive connection per process for the health probes. */
  private readonly probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly lock: DataDirLock;
  private healthTimer: NodeJS.Timeout | undefined;
  /** The periodic health round in progress, if any (stop() waits for it, at most ~2 s). */
  private healthRound: Promise<void> | undefined;
  private metadataClient: MetadataClient | undefined;
  private gatewayAbsent: string | undefined;
  private started = false;
  /**
   * Children run in their own process groups, so nothing kills them when this process exits
   * without calling stop() (an uncaught error, process.exit in a test runner). This hook does,
   * synchronously, as 'exit' handlers must.
   */
  private readonly killChildrenOnExit = (): void => {
    for (const { supervised } of this.processes.values()) supervised.kill('SIGKILL');
  };

  constructor(private readonly options: LocalClusterOptions) {
    this.layout = planCluster(options);
    this.lock = new DataDirLock(this.layout.lockPath);
  }

  /** Why the gateway is not running (its main is not built), or undefined when it is. */
  get gatewayAbsentReason(): string | undefined {
    return this.gatewayAbsent;
  }

  /**
   * Locks the data directory, checks the entry points and every port, then spawns metadata,
   * storage and gateway processes. Does not wait for readiness (see waitReady).
   */
  async start(): Promise<void> {
    if (this.started) return;
    const mains = this.resolveMains();
    fs.mkdirSync(this.layout.logDir, { recursive: true });
    const leftovers = this.lock.acquire(Object.values(mains));
    process.once('exit', this.killChildrenOnExit);
    try {
      await this.stopLeftovers(leftovers);
      const planned = allProcesses(this.layout).filter(
        (p) => (p.role !== 'gateway' || this.gatewayAbsent === undefined) && (p.role !== 'healer' || this.healerWanted(mains.healer)),
      );
      await checkPortsFree(this.layout, new Set(planned.map((p) => p.name)));
      const childEnv = this.childEnv();
      const storageFlags = flagsInHelp(this.options.nodeExecPath, mains.storage, childEnv);
      for (const p of planned) {
        if (p.dataDir !== undefined) fs.mkdirSync(p.dataDir, { recursive: true });
        const supervised = new SupervisedProcess(
          { name: p.name, execPath: this.options.nodeExecPath, args: [mains[p.role], ...this.argsFor(p, storageFlags)], env: this.envFor(p, childEnv), logPath: p.logPath },
          this.options.restartPolicy,
          (event) => this.onSupervisorEvent(event),
        );
        this.processes.set(p.name, { planned: p, supervised });
        this.readiness.set(p.name, false);
      }
      for (const { supervised } of this.processes.values()) supervised.start();
    } catch (err) {
      await this.stopAll();
      process.removeListener('exit', this.killChildrenOnExit);
      this.lock.release();
      throw err;
    }
    this.metadataClient = new MetadataClient({ addresses: this.layout.metadataAddresses, callTimeoutMs: 1_000, attemptCountMax: 1 });
    this.started = true;
    this.healthTimer = setInterval(() => {
      // A round can outlast the period (probes time out after 1 s, then retry once): a tick
      // while one runs is skipped. Chaining rounds instead queued one per tick on a loaded
      // machine, and stop(), which waits for the round in progress, then waited for all of them.
      if (this.healthRound !== undefined) return;
      this.healthRound = this.probeHealth().finally(() => {
        this.healthRound = undefined;
      });
    }, this.options.healthCheckIntervalMs);
  }

  /**
   * Resolves when every process answers /health/ready; ReadyTimeoutError names the others, and
   * ClusterStoppedError ends the wait when stop() is called meanwhile (a Ctrl-C during startup).
   */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadlineMs = Date.now() + timeoutMs;
    for (;;) {
      if (!this.started) throw new ClusterStoppedError();
      await this.probeHealth();
      const notReady = [...this.readiness].filter(([, ready]) => !ready).map(([name]) => name);
      if (notReady.length === 0) return;
      if (Date.now() >= deadlineMs) throw new ReadyTimeoutError(timeoutMs, notReady);
      await sleep(Math.min(250, this.options.healthCheckIntervalMs));
    }
  }

  /** The supervised child called `name` (fault injection: kill, stop, start, restart). */
  process(name: string): SupervisedProcess {
    const entry = this.processes.get(name);
    if (entry === undefined) throw new Error(`no process ${name}; known: ${[...this.processes.keys()].join(', ')}`);
    return entry.supervised;
  }

  processNames(): string[] {
    return [...this.processes.keys()];
  }

  /** Stops every process of a zone (an AZ outage); start each again with process(name).start(). */
  async stopZone(zone: string): Promise<void> {
    const inZone = [...this.processes.values()].filter((p) => p.planned.zone === zone);
    await Promise.all(inZone.map((p) => p.supervised.stop()));
  }

  async status(): Promise<LocalClusterStatus> {
    const processes = [...this.processes.values()].map(({ planned, supervised }): ProcessStatus => ({
      name: planned.name, role: planned.role, zone: planned.zone, state: supervised.state, pid: supervised.pid,
      ready: this.readiness.get(planned.name) === true, restartCount: supervised.restartCount,
      listenAddress: planned.listenAddress, metricsAddress: planned.metricsAddress, logPath: planned.logPath,
    }));
    return { processes, metadata: await this.metadataStatus() };
  }

  /**
   * Stops everything: gateway first (no new requests), then storage nodes, then metadata
   * followers, and the metadata leader last, so no election starts while the group shuts down.
   * Each child gets SIGTERM and, after the grace period, SIGKILL. Releases the data-dir lock.
   */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.healthTimer !== undefined) clearInterval(this.healthTimer);
    await this.healthRound;
    this.probeAgent.destroy();
    await this.stopAll();
    this.metadataClient?.close();
    process.removeListener('exit', this.killChildrenOnExit);
    this.lock.release();
  }

  private async stopAll(): Promise<void> {
    const byRole = (role: ProcessRole): SupervisedProcess[] => [...this.processes.values()].filter((p) => p.planned.role === role).map((p) => p.supervised);
    await Promise.all([...byRole('gateway'), ...byRole('healer')].map((p) => p.stop()));
    await Promise.all(byRole('storage').map((p) => p.stop()));
    const leaderId = this.metadataClient === undefined ? undefined : (await this.metadataStatus()).leaderId;
    const metadata = byRole('metadata');
    await Promise.all(metadata.filter((p) => p.name !== leaderId).map((p) => p.stop()));
    await Promise.all(metadata.filter((p) => p.name === leaderId).map((p) => p.stop()));
  }

  private healerWanted(healerMain: string): boolean {
    return this.options.healerMode === 'if-built' && roleMainExists(healerMain);
  }

  private resolveMains(): Record<ProcessRole, string> {
    const mains = {
      metadata: this.options.roleMainPaths?.metadata ?? defaultRoleMainPath('metadata'),
      storage: this.options.roleMainPaths?.storage ?? defaultRoleMainPath('storage'),
      gateway: this.options.roleMainPaths?.gateway ?? defaultRoleMainPath('gateway'),
      healer: this.options.roleMainPaths?.healer ?? defaultRoleMainPath('healer'),
    };
    for (const role of ['metadata', 'storage'] as const) if (!roleMainExists(mains[role])) throw new RoleMainMissingError(role, mains[role]);
    if (!roleMainExists(mains.gateway)) {
      if (this.options.gatewayMode === 'required') throw new RoleMainMissingError('gateway', mains.gateway);
      this.gatewayAbsent = `the gateway is not built (${mains.gateway} is missing): no S3 endpoint`;
    }
    return mains;
  }

  private async stopLeftovers(pids: readonly number[]): Promise<void> {
    for (const pid of pids) {
      process.kill(pid, 'SIGTERM');
      this.options.onEvent?.({ kind: 'leftover-stopped', pid });
    }
    const deadlineMs = Date.now() + this.options.restartPolicy.stopGraceMs;
    while (pids.some(isProcessAlive) && Date.now() < deadlineMs) await sleep(100);
    for (const pid of pids.filter(isProcessAlive)) process.kill(pid, 'SIGKILL');
    while (pids.some(isProcessAlive)) await sleep(50);
  }

  private childEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.options.baseEnv)) {
      if (value !== undefined && !name.startsWith('TESSERA_')) env[name] = value;
    }
    return env;
  }

  private envFor(p: PlannedProcess, childEnv: Record<string, string>): Record<string, string> {
    if (p.role !== 'gateway') return childEnv;
    // Secrets go by environment, never argv (argv is world-readable in /proc and ps).
    return {
      ...childEnv,
      TESSERA_ROOT_ACCESS_KEY: this.options.rootCredentials.accessKeyId,
      TESSERA_ROOT_SECRET_KEY: this.options.rootCredentials.secretAccessKey,
    };
  }

  private argsFor(p: PlannedProcess, storageFlags: ReadonlySet<string>): string[] {
    const o = this.options;
    const common = ['--listen', p.listenAddress, '--metrics-listen', p.metricsAddress];
    const metadataList = this.layout.metadataAddresses.join(',');
    switch (p.role) {
      case 'metadata': {
        const peers = this.layout.metadata.map((m) => `${m.name}=${m.listenAddress}`).join(',');
        return ['--node-id', p.name, ...common, '--peers', peers, '--data-dir', p.dataDir ?? '', '--log-level', o.logLevel, ...(o.extraArgs?.metadata ?? [])];
      }
      case 'storage': {
        const args = ['--node-id', p.name, '--zone', p.zone ?? '', ...common, '--data-dir', p.dataDir ?? '', '--log-level', o.logLevel];
        if (o.storageCapacityBytes !== undefined) args.push('--capacity-bytes', String(o.storageCapacityBytes));
        if (storageFlags.has('metadata')) args.push('--metadata', metadataList);
        if (storageFlags.has('advertise')) args.push('--advertise', p.listenAddress);
        return [...args, ...(o.extraArgs?.storage ?? [])];
      }
      case 'gateway':
        return [...common, '--metadata', metadataList, '--region', o.region, '--log-level', o.logLevel, ...(o.extraArgs?.gateway ?? [])];
      case 'healer':
        return ['--metadata', metadataList, '--metrics-listen', p.metricsAddress, '--worker-id', p.name, ...(o.extraArgs?.healer ?? [])];
    }
  }

  private onSupervisorEvent(event: SupervisorEvent): void {
    if (event.kind === 'spawned') this.lock.recordChild(event.name, event.pid);
    if (event.kind === 'crashed' || event.kind === 'stopped' || event.kind === 'spawn-failed') {
      this.lock.recordChild(event.name, undefined);
      this.setReady(event.name, false);
    }
    this.options.onEvent?.(event);
  }

  private setReady(name: string, ready: boolean): void {
    if (this.readiness.get(name) === ready) return;
    this.readiness.set(name, ready);
    this.options.onEvent?.({ kind: 'ready-changed', name, ready });
  }

  private async probeHealth(): Promise<void> {
    await Promise.all(
      [...this.processes.values()].map(async ({ planned, supervised }) => {
        if (supervised.state !== 'running') return this.setReady(planned.name, false);
        // A kept-alive connection the child closed just now fails the request; one retry on a
        // new connection keeps that from looking like an unready process.
        const code = (await httpGetStatus(planned.metricsAddress, '/health/ready', 1_000, this.probeAgent))
          ?? (await httpGetStatus(planned.metricsAddress, '/health/ready', 1_000));
        // The child may have died during the probe.
        this.setReady(planned.name, code === 200 && supervised.state === 'running');
      }),
    );
  }

  private async metadataStatus(): Promise<MetadataGroupStatus> {
    const client = this.metadataClient;
    const answers = client === undefined ? [] : await Promise.all(
      [...this.processes.values()]
        .filter((p) => p.planned.role === 'metadata' && p.supervised.state === 'running')
        .map((p) => client.getClusterStatus(p.planned.listenAddress).catch(() => undefined)),
    );
    const responding = answers.filter((a) => a !== undefined);
    // The freshest view: the highest term, and among those a node that knows the leader.
    const best = responding.sort((a, b) => b.term - a.term || Number(b.leaderId !== '') - Number(a.leaderId !== ''))[0];
    const fromLeader = responding.find((a) => a.role === 'leader' && a.term === best?.term);
    return {
      leaderId: best === undefined || best.leaderId === '' ? undefined : best.leaderId,
      leaderAddress: best === undefined || best.leaderAddress === '' ? undefined : best.leaderAddress,
      term: best?.term ?? 0,
      commitIndex: (fromLeader ?? best)?.commitIndex ?? 0,
      respondingNodeCount: responding.length,
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
