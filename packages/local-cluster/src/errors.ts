/**
 * Operating errors of the launcher. Each carries what an operator needs to act on it, and its
 * message is one line fit to print as-is (the CLI prints `message`, never a stack).
 */

/** A port of the plan is already taken by another process. */
export class PortInUseError extends Error {
  static readonly errorName = 'PortInUseError';
  constructor(
    readonly address: string,
    readonly processName: string,
    /** The option that moves this port (e.g. `--gateway-port`). */
    readonly optionHint: string,
  ) {
    super(`port ${address} (${processName}) is already in use: stop whatever listens there or change it with ${optionHint}`);
    this.name = PortInUseError.errorName;
  }
}

/** Another live launcher holds the data directory. */
export class DataDirLockedError extends Error {
  static readonly errorName = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(`data directory ${dataDir} is in use by another tessera launcher (pid ${ownerPid}): stop it first or use another --data-dir`);
    this.name = DataDirLockedError.errorName;
  }
}

/** A role's compiled entry point does not exist (the package was not built). */
export class RoleMainMissingError extends Error {
  static readonly errorName = 'RoleMainMissingError';
  constructor(
    readonly role: string,
    readonly mainPath: string,
  ) {
    super(`${role} entry point ${mainPath} does not exist: run \`npm run build\` first`);
    this.name = RoleMainMissingError.errorName;
  }
}

/** Some processes did not report ready in time. */
export class ReadyTimeoutError extends Error {
  static readonly errorName = 'ReadyTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly notReady: readonly string[],
  ) {
    super(`not ready after ${timeoutMs} ms: ${notReady.join(', ')} (see their logs under <data-dir>/logs/)`);
    this.name = ReadyTimeoutError.errorName;
  }
}

/** The cluster options contradict each other (two processes on one port, no zones, ...). */
export class ClusterLayoutError extends Error {
  static readonly errorName = 'ClusterLayoutError';
  constructor(message: string) {
    super(message);
    this.name = ClusterLayoutError.errorName;
  }
}

/** stop() was called while waitReady() was still waiting. */
export class ClusterStoppedError extends Error {
  static readonly errorName = 'ClusterStoppedError';
  constructor() {
    super('the cluster was stopped while waiting for readiness');
    this.name = ClusterStoppedError.errorName;
  }
}
