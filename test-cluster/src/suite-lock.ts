/**
 * One durability cluster at a time on this machine. jest runs test files in parallel workers,
 * so without this the local-process suite and the container suite would each start 14
 * processes at once on a 2-core machine, and the heal bounds (liveness, not correctness) would
 * measure the contention instead of the healer. Each suite takes this lock in `beforeAll` and
 * releases it in `afterAll`; a lock whose owner process is gone (a crashed run) is taken over.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sleep } from './durability-cluster';

const lockPath = path.join(os.tmpdir(), 'tessera-durability-suite.lock');

export interface SuiteLock {
  /** How long the caller waited for the other suite, in ms. */
  readonly waitedMs: number;
  release(): void;
}

export async function acquireSuiteLock(owner: string, timeoutMs: number): Promise<SuiteLock> {
  const startedMs = Date.now();
  for (;;) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, owner }));
      fs.closeSync(fd);
      return { waitedMs: Date.now() - startedMs, release: () => releaseIfOurs() };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!holderAlive()) {
      fs.rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() - startedMs > timeoutMs) throw new Error(`another durability suite still holds ${lockPath} after ${timeoutMs} ms`);
    await sleep(1_000);
  }
}

function holderAlive(): boolean {
  let pid: number;
  try {
    pid = Number((JSON.parse(fs.readFileSync(lockPath, 'utf8')) as { pid?: unknown }).pid);
  } catch {
    // Being written right now (look again), or left empty by a crash between create and write.
    const ageMs = Date.now() - (fs.statSync(lockPath, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    return ageMs < 10_000;
  }
  return processIsAlive(pid);
}

/** Whether a process with this id exists on this machine (signal 0 probes without signalling). */
export function processIsAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function releaseIfOurs(): void {
  try {
    const { pid } = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as { pid?: unknown };
    if (pid === process.pid) fs.rmSync(lockPath, { force: true });
  } catch {
    // Already gone.
  }
}
