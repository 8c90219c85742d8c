// Goal: `tessera heal|scrub stop|start` steer a real healer, and `--watch` follows its progress
// to the end: plain lines when stdout is not a terminal, one JSON object per poll with --json,
// redrawn in place on a terminal, exit 0 when the backlog is zero or the pass is over, 130 on
// Ctrl-C. Method: a real cluster (3 metadata + 9 storage nodes in this process, the healer
// package's test harness) holding 4+2 objects, the built healer main as a child process with a
// 0.5 s node-loss grace period and a slow scrub rate (a pass lasts seconds), and the built
// `tessera` binary as child processes; the terminal case runs the watch loop in process with a
// terminal-like output, since a child process here has no pty.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { randomBody, startHealerTestCluster, waitFor } from '@tessera/healer/testing/cluster-under-test';
import type { HealerTestCluster } from '@tessera/healer/testing/cluster-under-test';
import { runHealCommand } from '../src/commands/heal';
import type { HealerStatusView } from '../src/commands/heal';
import { requireBuilt, runTessera, tesseraMain } from './helpers';

jest.setTimeout(120_000);

const healerMain = path.resolve(__dirname, '..', '..', 'healer', 'dist', 'main.js');

describe('tessera heal / scrub against a real healer', () => {
  let cluster: HealerTestCluster;
  let healer: ChildProcess | undefined;
  let healerAddress = '';
  let dataDir = '';
  const watchers: ChildProcess[] = [];
  const env = (): Record<string, string> => ({ TESSERA_DATA_DIR: dataDir });
  const tessera = (...args: string[]) => runTessera([...args, '--healer', healerAddress], env());
  const healJson = async (): Promise<HealerStatusView> => JSON.parse((await tessera('heal', '--json')).stdout) as HealerStatusView;

  /** A `tessera` child whose stdout lines are collected as they come. */
  function startWatcher(...args: string[]): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
    const child = spawn(process.execPath, [tesseraMain, ...args, '--healer', healerAddress], { env: { PATH: process.env['PATH'] ?? '', ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
    watchers.push(child);
    const lines: string[] = [];
    readline.createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, lines, exited };
  }

  beforeAll(async () => {
    requireBuilt();
    if (!fs.existsSync(healerMain)) throw new Error(`${healerMain} missing: run npx tsc -b packages/healer first`);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-cli-heal-'));
    cluster = await startHealerTestCluster();
    await cluster.metadata.createBucket({ bucket: 'watch', owner: 'test' });
    for (let i = 0; i < 6; i++) await cluster.putObject('watch', `o${i}`, randomBody(100_000 + i * 9_000));
    healer = spawn(process.execPath, [healerMain, '--metadata', cluster.metadataAddresses.join(','), '--metrics-listen', '127.0.0.1:0',
      '--node-loss-grace-ms', '500', '--heal-interval-ms', '300', '--rebuild-rate-bytes-per-second', String(256 * 1024),
      '--scrub-rate-bytes-per-second', String(200 * 1024), '--scrub-period-ms', '3600000', '--orphan-scan-interval-ms', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const listening = await new Promise<{ metricsAddress: string }>((resolve, reject) => {
      readline.createInterface({ input: healer!.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { metricsAddress: string }));
      healer!.once('exit', (code) => reject(new Error(`healer exited ${code}`)));
    });
    healerAddress = listening.metricsAddress;
    await waitFor('first heal round', async () => ((await healJson()).lastRound !== undefined ? true : undefined));
  });

  afterAll(async () => {
    for (const child of watchers) if (child.exitCode === null) child.kill('SIGKILL');
    if (healer !== undefined && healer.exitCode === null) {
      const exited = new Promise((resolve) => healer!.once('exit', resolve));
      healer.kill('SIGTERM');
      await exited;
    }
    await cluster?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('heal stop holds a lost node\'s rebuild; --watch shows it paused, Ctrl-C ends a watch with 130; heal start runs it to full redundancy', async () => {
    const stop = await tessera('heal', 'stop');
    expect(stop.exitCode).toBe(0);
    expect(stop.stdout.split('\n').slice(0, 3)).toEqual(['rebuilds paused', expect.stringMatching(/^Healer healer-/), expect.stringMatching(/^rebuilds +paused \(tessera heal start resumes them\)$/)]);
    expect((await healJson()).healPaused).toBe(true);

    await cluster.stopStorageNode('az-b-n1');
    const counted = await waitFor('backlog counted', async () => {
      const s = await healJson();
      return s.backlogStripes > 0 ? s : undefined;
    }, 30_000);

    // A watch that cannot finish while paused: Ctrl-C.
    const interrupted = startWatcher('heal', '--watch', '--interval-ms', '200');
    await waitFor('paused line', async () => (interrupted.lines.some((l) => l.includes('PAUSED')) ? true : undefined));
    interrupted.child.kill('SIGINT');
    expect(await interrupted.exited).toBe(130);
    expect(interrupted.lines[0]).toMatch(new RegExp(`^heal  \\[-{24}\\]   0%  0 B / [0-9.]+ KiB  rate -- {2}ETA -- {2}backlog ${counted.backlogStripes} stripes  PAUSED \\(tessera heal start resumes\\)$`));
    // Not a terminal: a line per change, never carriage returns or escape codes.
    expect(interrupted.lines.join('\n')).not.toMatch(/[\r\x1b]/);

    const watcher = startWatcher('heal', '--watch', '--interval-ms', '200');
    await waitFor('watcher polling', async () => (watcher.lines.length > 0 ? true : undefined));
    expect((await tessera('heal', 'start')).exitCode).toBe(0);
    expect(await watcher.exited).toBe(0);
    const last = watcher.lines[watcher.lines.length - 1] ?? '';
    expect(last).toMatch(/^heal  \[#{24}\] 100%  ([0-9.]+ KiB) \/ \1  rate .*  backlog 0 stripes  full redundancy$/);
    const after = await healJson();
    expect({ paused: after.healPaused, backlog: after.backlogStripes }).toEqual({ paused: false, backlog: 0 });
    expect(after.totals['stripesRebuilt']).toBe(counted.backlogStripes);
  });

  test('scrub stop / start; `scrub start --watch --json` prints one object per poll and ends when the pass it started is over', async () => {
    expect((await tessera('scrub', 'stop')).stdout).toMatch(/^scrubber paused\nscrubber +paused/);
    const before = JSON.parse((await tessera('scrub', '--json')).stdout) as { passCount: number; paused: boolean };
    expect(before.paused).toBe(true);
    const watch = startWatcher('scrub', 'start', '--watch', '--json', '--interval-ms', '250');
    expect(await watch.exited).toBe(0);
    const samples = watch.lines.map((line) => JSON.parse(line) as { loop: string; finished: boolean; doneBytes: number; ratio: number | null; paused: boolean });
    expect(samples.length).toBeGreaterThan(1);
    expect(samples.every((s) => s.loop === 'scrub' && !s.paused)).toBe(true);
    expect(samples.slice(0, -1).every((s) => !s.finished)).toBe(true);
    expect(samples[samples.length - 1]).toMatchObject({ finished: true, ratio: 1 });
    const after = JSON.parse((await tessera('scrub', '--json')).stdout) as { passCount: number; paused: boolean; passRunning: boolean };
    expect(after).toMatchObject({ passCount: before.passCount + 1, paused: false, passRunning: false });
  });

  test('on a terminal the watch redraws one line in place and ends it with a newline', async () => {
    let written = '';
    const signals: Array<() => void> = [];
    const code = await runHealCommand(
      { loop: 'scrub', action: 'start', healerAddress, json: false, watch: true, rate: undefined, pollIntervalMs: 200 },
      { stdout: { write: (data) => void (written += String(data)), isTTY: true, columns: 100 }, onSignal: (_signal, handler) => void signals.push(handler), nowMs: () => Date.now() },
    );
    expect(code).toBe(0);
    const frames = written.split('\r').filter((frame) => frame !== '');
    expect(frames.length).toBeGreaterThan(1);
    // Every frame clears the rest of the line; only the last one ends it.
    expect(frames.slice(0, -1).every((frame) => frame.endsWith('\x1b[K') && !frame.includes('\n'))).toBe(true);
    expect(frames[frames.length - 1]).toMatch(/^scrub \[#{24}\] 100% .* pass complete\x1b\[K\n$/);
    expect(frames.every((frame) => frame.replace('\x1b[K', '').replace('\n', '').length < 100)).toBe(true);
    expect(signals).toHaveLength(2); // SIGINT and SIGTERM end the watch
  });

  test('heal --watch with nothing to heal ends at once; wrong words and flags are usage errors (exit 2)', async () => {
    const done = await tessera('heal', '--watch');
    expect(done.exitCode).toBe(0);
    expect(done.stdout).toMatch(/^heal  \[#{24}\] 100% .* full redundancy\n$/);
    expect(await tessera('heal', 'pause')).toMatchObject({ exitCode: 2 });
    expect(await tessera('scrub', '--rate', '1MiB')).toMatchObject({ exitCode: 2 });
    expect(await tessera('heal', '--watch', '--interval-ms', '5')).toMatchObject({ exitCode: 2 });
    expect(await runTessera(['config', '--watch'], env())).toMatchObject({ exitCode: 2 });
  });
});
