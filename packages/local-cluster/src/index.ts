/**
 * @packageDocumentation
 * Runs a whole Tessera cluster on one machine as real, supervised child processes: one metadata
 * node per zone, storage nodes per zone and the S3 gateway, on a fixed port plan. Used by
 * `tessera start` (`npm start`), by the CLI tests and by fault-injection suites.
 *
 * ```ts
 * import { LocalCluster, defaultClusterLayoutOptions, loadOrCreateRootKeys, planCluster } from '@tessera/local-cluster';
 *
 * const layoutOptions = { ...defaultClusterLayoutOptions, dataDir: './data' };
 * const { credentials } = loadOrCreateRootKeys(planCluster(layoutOptions).keysPath, {});
 * const cluster = new LocalCluster({
 *   ...layoutOptions, region: 'us-east-1', rootCredentials: credentials, baseEnv: process.env,
 *   logLevel: 'info', healthCheckIntervalMs: 1000, gatewayMode: 'required', nodeExecPath: process.execPath,
 *   restartPolicy: { restartBackoffMsBase: 500, restartBackoffMsMax: 30_000, stableAfterMs: 10_000, stopGraceMs: 10_000 },
 * });
 * await cluster.start();
 * await cluster.waitReady(60_000);
 * cluster.process('storage-az-a-1').kill('SIGKILL'); // restarted by the supervisor
 * await cluster.stop();
 * ```
 */
export { allProcesses, defaultClusterLayoutOptions, planCluster } from './cluster-layout';
export type { ClusterLayout, ClusterLayoutOptions, PlannedProcess, ProcessRole } from './cluster-layout';
export { ClusterLayoutError, ClusterStoppedError, DataDirLockedError, PortInUseError, ReadyTimeoutError, RoleMainMissingError } from './errors';
export { httpGetStatus } from './health';
export { LocalCluster } from './local-cluster';
export type { LocalClusterEvent, LocalClusterOptions, LocalClusterStatus, MetadataGroupStatus, ProcessStatus } from './local-cluster';
export { readLastLines } from './log-tail';
export { checkPortsFree, splitHostPort } from './ports';
export { defaultRoleMainPath } from './role-mains';
export { RootKeysFileError, generateRootCredentials, loadOrCreateRootKeys, readRootKeysFile, validateRootCredentials } from './root-keys';
export type { RootCredentials, RootKeysSource } from './root-keys';
export { SupervisedProcess } from './supervised-process';
export type { ExitInfo, RestartPolicy, SupervisedProcessSpec, SupervisedProcessState, SupervisorEvent } from './supervised-process';
