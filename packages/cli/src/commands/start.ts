/**
 * `tessera start` (= `npm start`): runs the local cluster in the foreground. Checks the lock and
 * ports, starts every process, waits for readiness with a timeout, prints the endpoint, keys
 * and a ready-to-paste `aws` line, then a live status. SIGINT/SIGTERM stop the cluster in
 * order; a second signal kills what is left at once.
 */
import { ClusterStoppedError, LocalCluster, loadOrCreateRootKeys, planCluster, ReadyTimeoutError } from '@tessera/local-cluster';
import type { LocalClusterEvent, RootCredentials, RootKeysSource } from '@tessera/local-cluster';
import type { CliConfig } from '../config';
import { layoutOptionsOf } from '../cluster-access';
import { renderLiveStatus, StatusBoard } from '../status-board';
import type { Output } from '../status-board';
import { formatDurationMs } from '../table';

export interface StartEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly nodeExecPath: string;
  /** Registers a signal handler (main.ts wires process.on). */
  readonly onSignal: (signal: 'SIGINT' | 'SIGTERM', handler: () => void) => void;
  readonly statusIntervalMs: number;
}

export async function runStart(config: CliConfig, environment: StartEnvironment): Promise<number> {
  const { stdout } = environment;
  const layout = planCluster(layoutOptionsOf(config));
  const env = environment.env;
  const keys = loadOrCreateRootKeys(layout.keysPath, { accessKeyId: env['TESSERA_ROOT_ACCESS_KEY'], secretAccessKey: env['TESSERA_ROOT_SECRET_KEY'] });
  const board = new StatusBoard(stdout);
  const cluster = createCluster(config, environment, keys.credentials, board);
  stdout.write(`Starting Tessera in ${layout.dataDir}: ${layout.metadata.length} metadata, ${layout.storage.length} storage nodes, gateway (${layout.metadata.length + layout.storage.length + 1} processes)\n`);
  stdout.write(`Logs: ${layout.logDir}/<name>.log\n`);
  const shutdown = new Shutdown(cluster, board, environment);
  environment.onSignal('SIGINT', () => void shutdown.stop('Interrupted', 0));
  environment.onSignal('SIGTERM', () => void shutdown.stop('Terminated', 0));

  await cluster.start();
  if (shutdown.requested) {
    // The signal came while start() was spawning: the stop that ran then found nothing started.
    await cluster.stop();
    return shutdown.done;
  }
  if (cluster.gatewayAbsentReason !== undefined) environment.stderr.write(`warning: ${cluster.gatewayAbsentReason}\n`);
  stdout.write(`Waiting for every process to be ready (timeout ${formatDurationMs(config.readyTimeoutMs)})...\n`);
  const startedAtMs = Date.now();
  const ready = await waitReadyOrExplain(cluster, config.readyTimeoutMs, environment);
  if (shutdown.requested) return shutdown.done;
  if (!ready) {
    void shutdown.stop('Not ready', 1);
    return shutdown.done;
  }
  stdout.write(`Ready in ${formatDurationMs(Date.now() - startedAtMs)}.\n\n`);
  stdout.write(banner(layout.s3Endpoint, config.region, keys.credentials, keys.source, layout.keysPath, cluster.gatewayAbsentReason === undefined));
  const endpoint = cluster.gatewayAbsentReason === undefined ? layout.s3Endpoint : undefined;
  const refresh = async (): Promise<void> => {
    if (shutdown.requested) return;
    const status = await cluster.status();
    if (shutdown.requested) return;
    const block = renderLiveStatus(status, endpoint);
    board.update(block, block.replace(/ {2}commit \d+/, ''));
  };
  await refresh();
  const timer = setInterval(() => void refresh(), environment.statusIntervalMs);
  const code = await shutdown.done;
  clearInterval(timer);
  return code;
}

function createCluster(config: CliConfig, environment: StartEnvironment, credentials: RootCredentials, board: StatusBoard): LocalCluster {
  return new LocalCluster({
    ...layoutOptionsOf(config),
    region: config.region,
    rootCredentials: credentials,
    baseEnv: environment.env,
    logLevel: config.logLevel,
    healthCheckIntervalMs: 1_000,
    storageCapacityBytes: config.storageCapacityBytes,
    gatewayMode: 'if-built',
    healerMode: 'if-built',
    nodeExecPath: environment.nodeExecPath,
    restartPolicy: {
      restartBackoffMsBase: config.restartBackoffMsBase, restartBackoffMsMax: config.restartBackoffMsMax,
      stableAfterMs: 10_000, stopGraceMs: config.stopGraceMs,
    },
    onEvent: (event) => reportEvent(event, board),
  });
}

/** False (after printing who is not ready and their log tails) when the timeout passes. */
async function waitReadyOrExplain(cluster: LocalCluster, timeoutMs: number, environment: StartEnvironment): Promise<boolean> {
  try {
    await cluster.waitReady(timeoutMs);
    return true;
  } catch (err) {
    if (err instanceof ClusterStoppedError) return false;
    if (!(err instanceof ReadyTimeoutError)) throw err;
    environment.stderr.write(`${err.message}\n`);
    for (const name of err.notReady) {
      const lines = cluster.process(name).lastLogLines(10);
      environment.stderr.write(`--- last lines of ${name}:\n${lines.map((l) => `    ${l}`).join('\n')}\n`);
    }
    return false;
  }
}

/** The first stop request stops the cluster in order; a second one kills what is left. */
class Shutdown {
  private stopping: Promise<number> | undefined;
  private resolveDone: (code: number) => void = () => undefined;
  readonly done = new Promise<number>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly cluster: LocalCluster,
    private readonly board: StatusBoard,
    private readonly environment: StartEnvironment,
  ) {}

  get requested(): boolean {
    return this.stopping !== undefined;
  }

  stop(reason: string, code: number): Promise<number> {
    if (this.stopping !== undefined) {
      this.board.event(`${reason} again: killing all processes now`);
      for (const name of this.cluster.processNames()) this.cluster.process(name).kill('SIGKILL');
      return this.stopping;
    }
    this.board.release();
    this.environment.stdout.write(`\n${reason}: stopping (gateway, storage, metadata followers, then the leader)...\n`);
    this.stopping = this.cluster.stop().then(
      () => {
        this.environment.stdout.write('Stopped.\n');
        return code;
      },
      (err: unknown) => {
        this.environment.stderr.write(`error while stopping: ${(err as Error).message}\n`);
        return 1;
      },
    );
    void this.stopping.then(this.resolveDone);
    return this.stopping;
  }
}

function banner(endpoint: string, region: string, credentials: RootCredentials, source: RootKeysSource, keysPath: string, gatewayUp: boolean): string {
  const from = source === 'env' ? 'TESSERA_ROOT_ACCESS_KEY / TESSERA_ROOT_SECRET_KEY' : source === 'generated' ? `${keysPath} (generated now)` : keysPath;
  return [
    gatewayUp ? 'Tessera is running.' : 'Tessera is running WITHOUT its S3 gateway (not built).',
    `  S3 endpoint  ${endpoint}`,
    `  Region       ${region}`,
    `  Access key   ${credentials.accessKeyId}`,
    `  Secret key   ${credentials.secretAccessKey}`,
    `  Keys from    ${from}`,
    '',
    'Try it:',
    `  AWS_ACCESS_KEY_ID=${credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey} AWS_DEFAULT_REGION=${region} aws --endpoint-url ${endpoint} s3 ls`,
    '',
    'Ctrl-C stops the cluster; `tessera status` shows details.',
    '',
    '',
  ].join('\n');
}

function reportEvent(event: LocalClusterEvent, board: StatusBoard): void {
  switch (event.kind) {
    case 'crashed': {
      const how = event.signal !== null ? `killed by ${event.signal}` : `exited with code ${String(event.exitCode)}`;
      const tail = event.lastLogLines.slice(-8).map((l) => `    | ${l}`).join('\n');
      board.event(`! ${event.name} ${how}; restarting in ${formatDurationMs(event.restartInMs)}${tail === '' ? '' : `. Last log lines:\n${tail}`}`);
      return;
    }
    case 'spawn-failed':
      board.event(`! ${event.name} could not start (${event.message}); retrying in ${formatDurationMs(event.restartInMs)}`);
      return;
    case 'spawned':
      if (event.restartCount > 0) board.event(`  ${event.name} restarted (pid ${event.pid}, restart ${event.restartCount})`);
      return;
    case 'leftover-stopped':
      board.event(`  stopped pid ${event.pid}, left running by a launcher that died`);
      return;
    case 'stopped':
    case 'ready-changed':
      return;
  }
}
