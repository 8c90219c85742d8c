// Goal: the supervisor restarts a crashed child with capped exponential backoff, reports the
// crash with the child's last log lines, and stops a child that ignores SIGTERM with SIGKILL.
// Method: real `node -e` children with a log file in a temp directory; short delays.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SupervisedProcess } from '@tessera/local-cluster';
import type { SupervisorEvent } from '@tessera/local-cluster';

const policy = { restartBackoffMsBase: 50, restartBackoffMsMax: 200, stableAfterMs: 60_000, stopGraceMs: 300 };

describe('SupervisedProcess', () => {
  let dir: string;
  const running: SupervisedProcess[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-sup-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function supervise(script: string, events: SupervisorEvent[]): SupervisedProcess {
    const p = new SupervisedProcess(
      { name: 'child', execPath: process.execPath, args: ['-e', script], env: {}, logPath: path.join(dir, 'logs', 'child.log') },
      policy,
      (event) => events.push(event),
    );
    running.push(p);
    return p;
  }

  async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  test('a crashing child is restarted with doubling delays up to the cap, and its log tail reported', async () => {
    const events: SupervisorEvent[] = [];
    const p = supervise('console.log("about to fail"); process.exit(3)', events);
    p.start();
    await until(() => events.filter((e) => e.kind === 'crashed').length >= 4);
    await p.stop();
    const crashes = events.filter((e): e is Extract<SupervisorEvent, { kind: 'crashed' }> => e.kind === 'crashed');
    expect(crashes.slice(0, 4).map((c) => c.restartInMs)).toEqual([50, 100, 200, 200]);
    expect(crashes[0]?.exitCode).toBe(3);
    expect(crashes[0]?.lastLogLines).toContain('about to fail');
    expect(p.restartCount).toBeGreaterThanOrEqual(3);
    expect(fs.readFileSync(path.join(dir, 'logs', 'child.log'), 'utf8')).toMatch(/tessera launcher: starting child \(restart 0\)/);
  });

  test('kill -9 is a crash: the child comes back with a new pid', async () => {
    const events: SupervisorEvent[] = [];
    const p = supervise('setInterval(() => {}, 1000)', events);
    p.start();
    const firstPid = p.pid;
    expect(firstPid).toBeDefined();
    p.kill('SIGKILL');
    await until(() => p.restartCount === 1 && p.state === 'running');
    expect(p.pid).not.toBe(firstPid);
    expect(events.find((e) => e.kind === 'crashed')).toMatchObject({ signal: 'SIGKILL', restartInMs: 50 });
  });

  test('stop() sends SIGTERM, then SIGKILL after the grace period, and never restarts', async () => {
    const events: SupervisorEvent[] = [];
    const p = supervise('process.on("SIGTERM", () => console.log("ignoring SIGTERM")); console.log("up"); setInterval(() => {}, 1000)', events);
    p.start();
    await until(() => fs.readFileSync(path.join(dir, 'logs', 'child.log'), 'utf8').includes('up'));
    const pid = p.pid ?? -1;
    const startedMs = Date.now();
    const exit = await p.stop();
    expect(exit).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(policy.stopGraceMs - 20);
    expect(p.state).toBe('stopped');
    expect(() => process.kill(pid, 0)).toThrow();
    expect(events.at(-1)).toMatchObject({ kind: 'stopped', killed: true });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(events.some((e) => e.kind === 'crashed')).toBe(false);
  });

  test('a child that exits on SIGTERM stops cleanly with its own exit code', async () => {
    const events: SupervisorEvent[] = [];
    const p = supervise('process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000)', events);
    p.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await p.stop()).toEqual({ exitCode: 0, signal: null });
    expect(events.at(-1)).toMatchObject({ kind: 'stopped', exitCode: 0, killed: false });
  });
});
