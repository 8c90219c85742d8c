/**
 * One launcher per data directory. The lock is a file created with O_EXCL holding the owner's
 * pid and the pids of its children; a lock whose owner is dead is stale and taken over, after
 * stopping any children the dead owner left behind (a launcher killed with SIGKILL cannot stop
 * them itself, and they would hold the cluster's ports).
 *
 * File format: `{"pid":123,"startedAt":"<ISO>","children":{"meta-1":124,...}}`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataDirLockedError } from './errors';

interface LockRecord {
  readonly pid: number;
  readonly startedAt: string;
  readonly children: Record<string, number>;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(lockPath: string): LockRecord | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as Partial<LockRecord>;
    return { pid: Number(parsed.pid), startedAt: String(parsed.startedAt), children: parsed.children ?? {} };
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs a node process started from one of `mainPaths` (guards against pid reuse). */
function runsOneOf(pid: number, mainPaths: readonly string[]): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return mainPaths.some((p) => cmdline.includes(p));
  } catch {
    return false;
  }
}

export class DataDirLock {
  private record: LockRecord | undefined;

  constructor(private readonly lockPath: string) {}

  /**
   * Takes the lock or throws DataDirLockedError. Returns the pids of leftover children of a dead
   * previous owner that still run one of `mainPaths`; the caller stops them. A lock held by this
   * very process (another LocalCluster instance) is refused like any live owner's.
   */
  acquire(mainPaths: readonly string[]): number[] {
    const leftovers: number[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const record: LockRecord = { pid: process.pid, startedAt: new Date().toISOString(), children: {} };
      try {
        fs.writeFileSync(this.lockPath, JSON.stringify(record), { flag: 'wx', mode: 0o600 });
        this.record = record;
        return leftovers;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = readLock(this.lockPath);
      // Our own pid counts as alive: another LocalCluster in this process holds the directory.
      if (owner !== undefined && isProcessAlive(owner.pid)) throw new DataDirLockedError(path.dirname(this.lockPath), owner.pid);
      for (const pid of Object.values(owner?.children ?? {})) {
        if (isProcessAlive(pid) && runsOneOf(pid, mainPaths)) leftovers.push(pid);
      }
      fs.rmSync(this.lockPath, { force: true });
    }
    throw new DataDirLockedError(this.lockPath, -1);
  }

  /** Records a child's pid (undefined: the child is gone), so a successor can clean up. */
  recordChild(name: string, pid: number | undefined): void {
    if (this.record === undefined) return;
    const children = { ...this.record.children };
    if (pid === undefined) delete children[name];
    else children[name] = pid;
    this.record = { ...this.record, children };
    // Rewrite in place: the file is ours while we hold the lock.
    fs.writeFileSync(this.lockPath, JSON.stringify(this.record), { mode: 0o600 });
  }

  release(): void {
    if (this.record === undefined) return;
    const current = readLock(this.lockPath);
    if (current?.pid === process.pid) fs.rmSync(this.lockPath, { force: true });
    this.record = undefined;
  }
}
