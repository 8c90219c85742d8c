// Goal: the arithmetic and rendering behind `tessera heal --watch` / `tessera scrub --watch`
// are right sample by sample: progress against a moving backlog, rate over a sliding window,
// ETA, when a watch is finished, and the exact line drawn. Method: hand-built healer status
// samples with chosen timestamps fed to the pure WatchTracker and renderers (no healer, no
// clock); the watch loop itself is tested against a real healer in heal-command.test.ts.
import { WatchTracker, fitToWidth, parseHealAction, rateWindowMs, renderHealStatus, renderProgressBar, renderScrubStatus, renderWatchLine } from '../src/commands/heal';
import type { HealerStatusView, ScrubStatusView } from '../src/commands/heal';

const MiB = 1024 * 1024;

const idleScrub: ScrubStatusView = {
  passCount: 3, shardsVerifiedThisPass: 0, shardsLastPass: 400, progressRatio: 0, effectiveRateBytesPerSecond: 20 * MiB,
  oldestUnverifiedAgeSeconds: 3_600, corruptShardsFound: 0, paused: false, passRunning: false, passStartedAtMs: 1_000, bytesVerifiedThisPass: 0, bytesLastPass: 800 * MiB,
};

function healStatus(backlogBytes: number, bytesRebuilt: number, extra: Partial<HealerStatusView> = {}): HealerStatusView {
  return {
    workerId: 'healer-1', healPaused: false, rebuildRateLimitBytesPerSecond: 100 * MiB, measuredRebuildRateBytesPerSecond: 0,
    backlogStripes: Math.ceil(backlogBytes / MiB), backlogBytes, etaSeconds: 0, lastRound: { stripeCount: 1 },
    totals: { stripesRebuilt: 0, shardsRebuilt: 0, bytesRebuilt, stale: 0, unrecoverable: 0, orphansDeleted: 0 }, scrub: idleScrub, ...extra,
  };
}

function scrubStatus(scrub: Partial<ScrubStatusView>): HealerStatusView {
  return healStatus(0, 0, { scrub: { ...idleScrub, ...scrub } });
}

describe('heal watch progress', () => {
  test('progress is rebuilt / (rebuilt + backlog) since the watch began; rate and ETA from the samples', () => {
    const tracker = new WatchTracker('heal');
    // 500 MiB already rebuilt before the watch: not counted.
    const first = tracker.add({ atMs: 0, status: healStatus(300 * MiB, 500 * MiB) });
    expect(first).toMatchObject({ doneBytes: 0, totalBytes: 300 * MiB, ratio: 0, rateBytesPerSecond: undefined, etaSeconds: undefined, finished: false });
    const second = tracker.add({ atMs: 2_000, status: healStatus(280 * MiB, 520 * MiB) });
    expect(second).toMatchObject({ doneBytes: 20 * MiB, totalBytes: 300 * MiB, rateBytesPerSecond: 10 * MiB, etaSeconds: 28, finished: false });
    expect(second.ratio).toBeCloseTo(20 / 300, 10);
    expect(renderWatchLine(second)).toBe('heal  [##----------------------]   6%  20 MiB / 300 MiB  rate 10 MiB/s  ETA 28s  backlog 280 stripes');
  });

  test('a backlog that grows (another node lost) grows the total instead of moving the bar backwards past zero', () => {
    const tracker = new WatchTracker('heal');
    tracker.add({ atMs: 0, status: healStatus(100 * MiB, 0) });
    tracker.add({ atMs: 1_000, status: healStatus(50 * MiB, 50 * MiB) });
    const grown = tracker.add({ atMs: 2_000, status: healStatus(250 * MiB, 100 * MiB) });
    expect(grown).toMatchObject({ doneBytes: 100 * MiB, totalBytes: 350 * MiB });
    expect(grown.ratio).toBeCloseTo(100 / 350, 10);
  });

  test('the rate follows only the last rateWindowMs of samples', () => {
    const tracker = new WatchTracker('heal');
    // 10 MiB/s for 20 s, then 1 MiB/s: after a full window at the new pace, the rate shows it.
    let rebuilt = 0;
    let atMs = 0;
    for (; atMs <= 20_000; atMs += 1_000, rebuilt += 10 * MiB) tracker.add({ atMs, status: healStatus(1_000 * MiB, rebuilt) });
    let last;
    for (let i = 0; i <= rateWindowMs / 1_000 + 1; i++, atMs += 1_000, rebuilt += MiB) last = tracker.add({ atMs, status: healStatus(500 * MiB, rebuilt) });
    expect(last?.rateBytesPerSecond).toBeCloseTo(MiB, 0);
  });

  test('finished when the backlog is zero after a round; not before the healer has run one', () => {
    const tracker = new WatchTracker('heal');
    const noRound = tracker.add({ atMs: 0, status: healStatus(0, 0, { lastRound: undefined }) });
    expect(noRound).toMatchObject({ finished: false, active: false, ratio: undefined });
    expect(renderWatchLine(noRound)).toBe('heal  [-----------?------------]   ?%  0 B / 0 B  rate --  ETA --  backlog 0 stripes  waiting for the first round');
    const done = tracker.add({ atMs: 1_000, status: healStatus(0, 0) });
    expect(done).toMatchObject({ finished: true, ratio: 1 });
    expect(renderWatchLine(done)).toBe('heal  [########################] 100%  0 B / 0 B  rate 0 B/s  ETA --  backlog 0 stripes  full redundancy');
  });

  test('`heal start --watch` trusts a zero backlog only from a round that began after the start', () => {
    const tracker = new WatchTracker('heal', { passCountBefore: 0, healRoundCountBefore: 7 });
    // Round 8 may have been under way (paused, queue unclaimed) when the start arrived.
    expect(tracker.add({ atMs: 0, status: healStatus(0, 0, { healRoundCount: 8 }) }).finished).toBe(false);
    expect(tracker.add({ atMs: 500, status: healStatus(2 * MiB, 0, { healRoundCount: 8 }) }).finished).toBe(false);
    expect(tracker.add({ atMs: 900, status: healStatus(0, 2 * MiB, { healRoundCount: 9 }) })).toMatchObject({ finished: true, doneBytes: 2 * MiB, ratio: 1 });
  });

  test('paused: no ETA, and the line says how to resume', () => {
    const tracker = new WatchTracker('heal');
    tracker.add({ atMs: 0, status: healStatus(64 * MiB, 0, { healPaused: true }) });
    const paused = tracker.add({ atMs: 1_000, status: healStatus(64 * MiB, 0, { healPaused: true }) });
    expect(paused).toMatchObject({ paused: true, etaSeconds: undefined, finished: false });
    expect(renderWatchLine(paused)).toBe('heal  [------------------------]   0%  0 B / 64 MiB  rate 0 B/s  ETA --  backlog 64 stripes  PAUSED (tessera heal start resumes)');
  });
});

describe('scrub watch progress', () => {
  test('a running pass is measured against the last pass; finishes when the pass count moves on', () => {
    const tracker = new WatchTracker('scrub');
    const running = { passRunning: true, passStartedAtMs: 50_000, passCount: 3 };
    tracker.add({ atMs: 0, status: scrubStatus({ ...running, bytesVerifiedThisPass: 100 * MiB, shardsVerifiedThisPass: 50 }) });
    const mid = tracker.add({ atMs: 5_000, status: scrubStatus({ ...running, bytesVerifiedThisPass: 200 * MiB, shardsVerifiedThisPass: 100 }) });
    expect(mid).toMatchObject({ doneBytes: 200 * MiB, totalBytes: 800 * MiB, ratio: 0.25, rateBytesPerSecond: 20 * MiB, etaSeconds: 30, finished: false, active: true });
    expect(renderWatchLine(mid)).toBe('scrub [######------------------]  25%  200 MiB / ~800 MiB  rate 20 MiB/s  ETA 30s  100 shards');
    const done = tracker.add({ atMs: 40_000, status: scrubStatus({ passCount: 4, passRunning: false, passStartedAtMs: 50_000, bytesVerifiedThisPass: 810 * MiB, bytesLastPass: 810 * MiB, shardsVerifiedThisPass: 405 }) });
    expect(done).toMatchObject({ finished: true, ratio: 1, active: false });
    expect(renderWatchLine(done)).toBe('scrub [########################] 100%  810 MiB / 810 MiB  rate --  ETA --  405 shards  pass complete');
  });

  test('a first pass has no size estimate: unknown total, no ETA', () => {
    const tracker = new WatchTracker('scrub');
    const first = tracker.add({ atMs: 0, status: scrubStatus({ passCount: 0, bytesLastPass: 0, passRunning: true, bytesVerifiedThisPass: 3 * MiB, shardsVerifiedThisPass: 7 }) });
    expect(first).toMatchObject({ totalBytes: undefined, ratio: undefined, etaSeconds: undefined, finished: false });
    expect(renderWatchLine(first)).toBe('scrub [-----------?------------]   ?%  3.0 MiB / ?  rate --  ETA --  7 shards');
  });

  test('an idle scrubber ends a plain watch at once, but `scrub start --watch` waits for the pass it asked for', () => {
    expect(new WatchTracker('scrub').add({ atMs: 0, status: scrubStatus({}) }).finished).toBe(true);
    const requested = new WatchTracker('scrub', { passCountBefore: 3, healRoundCountBefore: 10 });
    const notYet = requested.add({ atMs: 0, status: scrubStatus({}) });
    expect(notYet).toMatchObject({ finished: false, active: false });
    expect(renderWatchLine(notYet)).toContain('waiting for the pass to start');
    expect(requested.add({ atMs: 500, status: scrubStatus({ passRunning: true, passStartedAtMs: 9_000 }) }).finished).toBe(false);
    expect(requested.add({ atMs: 900, status: scrubStatus({ passCount: 4, passStartedAtMs: 9_000 }) }).finished).toBe(true);
  });

  test('a pass that ends on an error ends the watch with the error, whether started by the watch or seen running', () => {
    const requested = new WatchTracker('scrub', { passCountBefore: 3, passFailureCountBefore: 1, healRoundCountBefore: 0 });
    requested.add({ atMs: 0, status: scrubStatus({ passRunning: true, passStartedAtMs: 5, passFailureCount: 1, bytesVerifiedThisPass: MiB }) });
    const failed = requested.add({ atMs: 1_000, status: scrubStatus({ passRunning: false, passStartedAtMs: 5, passFailureCount: 2, lastPassError: 'storage-b2: UNAVAILABLE', bytesVerifiedThisPass: MiB }) });
    // As far as it got against the last pass's 800 MiB, not a full bar.
    expect(failed).toMatchObject({ finished: true, failure: 'storage-b2: UNAVAILABLE', doneBytes: MiB, totalBytes: 800 * MiB });
    expect(renderWatchLine(failed)).toMatch(/PASS FAILED: storage-b2: UNAVAILABLE \(tessera scrub start retries\)$/);

    const seen = new WatchTracker('scrub');
    expect(seen.add({ atMs: 0, status: scrubStatus({ passRunning: true, passFailureCount: 0 }) }).finished).toBe(false);
    expect(seen.add({ atMs: 500, status: scrubStatus({ passRunning: false, passFailureCount: 1, lastPassError: 'x' }) })).toMatchObject({ finished: true, failure: 'x' });
    // An old failure (before the watch) is not this pass's.
    const fresh = new WatchTracker('scrub', { passCountBefore: 3, passFailureCountBefore: 4, healRoundCountBefore: 0 });
    expect(fresh.add({ atMs: 0, status: scrubStatus({ passFailureCount: 4, lastPassError: 'old' }) })).toMatchObject({ finished: false });
  });

  test('a pass paused mid-way shows PAUSED and no ETA; a new pass restarts the rate history', () => {
    const tracker = new WatchTracker('scrub');
    tracker.add({ atMs: 0, status: scrubStatus({ passRunning: true, passStartedAtMs: 1, bytesVerifiedThisPass: 10 * MiB }) });
    const paused = tracker.add({ atMs: 1_000, status: scrubStatus({ passRunning: true, paused: true, passStartedAtMs: 1, bytesVerifiedThisPass: 10 * MiB }) });
    expect(paused).toMatchObject({ paused: true, etaSeconds: undefined, rateBytesPerSecond: 0 });
    expect(renderWatchLine(paused)).toContain('PAUSED (tessera scrub start resumes)');
    const next = tracker.add({ atMs: 2_000, status: scrubStatus({ passRunning: true, passStartedAtMs: 2, bytesVerifiedThisPass: MiB }) });
    expect(next.rateBytesPerSecond).toBeUndefined();
  });
});

describe('rendering helpers', () => {
  test('progress bar fills by rounding, clamps, and marks an unknown ratio', () => {
    expect(renderProgressBar(0, 10)).toBe('[----------]');
    expect(renderProgressBar(0.5, 10)).toBe('[#####-----]');
    expect(renderProgressBar(0.96, 10)).toBe('[##########]');
    expect(renderProgressBar(1.7, 10)).toBe('[##########]');
    expect(renderProgressBar(undefined, 10)).toBe('[----?-----]');
  });

  test('lines are cut to the terminal width so the in-place redraw stays on one line', () => {
    expect(fitToWidth('abcdef', 4)).toBe('abc');
    expect(fitToWidth('abc', 80)).toBe('abc');
    expect(fitToWidth('abc', undefined)).toBe('abc');
  });

  test('heal and scrub status tables have no blank header line, and say whether they are paused', () => {
    const heal = renderHealStatus(healStatus(3 * MiB, 0, { healPaused: true, backlogStripes: 3 }));
    expect(heal.split('\n')).toEqual([
      'Healer healer-1',
      'rebuilds        paused (tessera heal start resumes them)',
      'backlog         3 stripes, 3.0 MiB',
      'rebuild rate    0 B/s (limit 100 MiB/s)',
      'eta             paused',
      'stripesRebuilt  0',
      'shardsRebuilt   0',
      'bytesRebuilt    0',
      'stale           0',
      'unrecoverable   0',
      'orphansDeleted  0',
    ]);
    const scrub = renderScrubStatus(scrubStatus({ passRunning: true, shardsVerifiedThisPass: 100, progressRatio: 0.25 }));
    expect(scrub.split('\n')[0]).toBe('scrubber           pass running');
    expect(scrub.split('\n').every((line) => line.trim() !== '')).toBe(true);
  });

  test('repairs held until a node answers: not full redundancy, in the table and in the watch', () => {
    const status = healStatus(0, 0, { repairsAwaitingNodes: 2 });
    const table = renderHealStatus(status).split('\n');
    expect(table.slice(2, 6)).toEqual([
      'backlog            0 stripes, 0 B',
      'rebuild rate       0 B/s (limit 100 MiB/s)',
      'waiting for nodes  2 queued repairs (a shard on a node not answering)',
      'eta                when those nodes answer or are declared lost',
    ]);
    const tracker = new WatchTracker('heal');
    const waiting = tracker.add({ atMs: 0, status });
    expect(waiting.finished).toBe(false);
    expect(renderWatchLine(waiting)).toBe('heal  [########################] 100%  0 B / 0 B  rate --  ETA --  backlog 0 stripes, 2 waiting for nodes');
    expect(tracker.add({ atMs: 1_000, status: healStatus(0, 0, { repairsAwaitingNodes: 0 }) }).finished).toBe(true);
  });

  test('actions: nothing, status, stop, start; anything else is a usage error', () => {
    expect(parseHealAction([], 'heal')).toBe('status');
    expect(parseHealAction(['stop'], 'scrub')).toBe('stop');
    expect(parseHealAction(['start'], 'heal')).toBe('start');
    expect(() => parseHealAction(['pause'], 'heal')).toThrow('tessera heal pause: expected stop, start or nothing');
    expect(() => parseHealAction(['stop', 'now'], 'scrub')).toThrow('unexpected "now"');
  });
});
