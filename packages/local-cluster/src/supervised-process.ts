/**
 * One child process under supervision: spawned with its output appended to a log file,
 * restarted with capped exponential backoff when it dies unasked, stopped with SIGTERM and then
 * SIGKILL after a grace period when asked.
 *
 * Children run in their own process group (`detached`), so a Ctrl-C in the terminal reaches only
 * the launcher, which then stops them in a chosen order instead of all at once.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assert } from '@tessera/common';
import { readLastLines } from './log-tail';

export interface SupervisedProcessSpec {
  readonly name: string;
  readonly execPath: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly logPath: string;
  readonly cwd?: string;
}

export interface RestartPolicy {
  /** First restart delay; doubles per consecutive crash up to restartBackoffMsMax. */
  readonly restartBackoffMsBase: number;
  readonly restartBackoffMsMax: number;
  /** A run longer than this resets the crash count (the process had recovered). */
  readonly stableAfterMs: number;
  /** SIGTERM, then SIGKILL after this long. */
  readonly stopGraceMs: number;
}

export type SupervisedProcessState = 'stopped' | 'running' | 'backoff' | 'stopping';

export type SupervisorEvent =
  | { readonly kind: 'spawned'; readonly name: string; readonly pid: number; readonly restartCount: number }
  | {
      readonly kind: 'crashed';
      readonly name: string;
      readonly exitCode: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly lastLogLines: readonly string[];
      readonly restartInMs: number;
    }
  | { readonly kind: 'stopped'; readonly name: string; readonly exitCode: number | null; readonly signal: NodeJS.Signals | null; readonly killed: boolean }
  | { readonly kind: 'spawn-failed'; readonly name: string; readonly message: string; readonly restartInMs: number };

export interface ExitInfo {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class SupervisedProcess {
  private child: ChildProcess | undefined;
  private currentState: SupervisedProcessState = 'stopped';
  private restartTimer: NodeJS.Timeout | undefined;
  private consecutiveCrashCount = 0;
  private spawnedAtMs = 0;
  private restarts = 0;
  private exitWaiters: Array<(info: ExitInfo) => void> = [];

  constructor(
    readonly spec: SupervisedProcessSpec,
    private readonly policy: RestartPolicy,
    private readonly onEvent: (event: SupervisorEvent) => void,
  ) {
    assert(policy.restartBackoffMsBase > 0, 'restart backoff base is positive');
    assert(policy.restartBackoffMsMax >= policy.restartBackoffMsBase, 'backoff cap at least the base');
  }

  get name(): string {
    return this.spec.name;
  }
  get state(): SupervisedProcessState {
    return this.currentState;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  /** Restarts after crashes since the launcher started this process. */
  get restartCount(): number {
    return this.restarts;
  }

  /** Spawns the process if it is not running (cancels a pending restart). */
  start(): void {
    if (this.currentState === 'running' || this.currentState === 'stopping') return;
    this.clearRestartTimer();
    this.consecutiveCrashCount = 0;
    this.spawnChild();
  }

  /**
   * Sends `signal` without stopping supervision: if the process dies, it is reported as a crash
   * and restarted (fault injection: `kill('SIGKILL')` is `kill -9`).
   */
  kill(signal: NodeJS.Signals): void {
    if (this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Stops without restarting: SIGTERM, then SIGKILL after the grace period. */
  async stop(): Promise<ExitInfo | undefined> {
    this.clearRestartTimer();
    const child = this.child;
    if (child === undefined) {
      this.currentState = 'stopped';
      return undefined;
    }
    this.currentState = 'stopping';
    const exited = this.waitForExit();
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), this.policy.stopGraceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(killTimer);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  /** Resolves at the next exit of the current child (immediately if none runs). */
  waitForExit(): Promise<ExitInfo> {
    if (this.child === undefined) return Promise.resolve({ exitCode: null, signal: null });
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  lastLogLines(lineCount: number): string[] {
    return readLastLines(this.spec.logPath, lineCount);
  }

  private spawnChild(): void {
    fs.mkdirSync(path.dirname(this.spec.logPath), { recursive: true });
    fs.appendFileSync(this.spec.logPath, `--- ${new Date().toISOString()} tessera launcher: starting ${this.spec.name} (restart ${this.restarts})\n`);
    const logFd = fs.openSync(this.spec.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.spec.execPath, [...this.spec.args], {
        cwd: this.spec.cwd, env: { ...this.spec.env }, stdio: ['ignore', logFd, logFd], detached: true,
      });
    } finally {
      // The child holds its own copy of the descriptor.
      fs.closeSync(logFd);
    }
    this.child = child;
    this.currentState = 'running';
    this.spawnedAtMs = Date.now();
    child.once('error', (err) => {
      // spawn failures (ENOENT, EACCES) arrive here and no 'exit' follows.
      if (child.pid !== undefined) return;
      this.child = undefined;
      this.scheduleRestart((restartInMs) => this.onEvent({ kind: 'spawn-failed', name: this.name, message: err.message, restartInMs }));
    });
    child.once('exit', (exitCode, signal) => this.onExit(child, exitCode, signal));
    if (child.pid !== undefined) this.onEvent({ kind: 'spawned', name: this.name, pid: child.pid, restartCount: this.restarts });
  }

  private onExit(child: ChildProcess, exitCode: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    if (this.currentState === 'stopping') {
      this.currentState = 'stopped';
      this.onEvent({ kind: 'stopped', name: this.name, exitCode, signal, killed: signal === 'SIGKILL' });
    } else {
      const ranMs = Date.now() - this.spawnedAtMs;
      if (ranMs >= this.policy.stableAfterMs) this.consecutiveCrashCount = 0;
      const lastLogLines = this.lastLogLines(20);
      this.scheduleRestart((restartInMs) => this.onEvent({ kind: 'crashed', name: this.name, exitCode, signal, lastLogLines, restartInMs }));
    }
    for (const resolve of waiters) resolve({ exitCode, signal });
  }

  private scheduleRestart(report: (restartInMs: number) => void): void {
    const delayMs = Math.min(this.policy.restartBackoffMsMax, this.policy.restartBackoffMsBase * 2 ** this.consecutiveCrashCount);
    this.consecutiveCrashCount += 1;
    this.currentState = 'backoff';
    report(delayMs);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.currentState !== 'backoff') return;
      this.restarts += 1;
      this.spawnChild();
    }, delayMs);
  }

  private clearRestartTimer(): void {
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }
}
