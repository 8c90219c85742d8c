/**
 * `tessera heal` and `tessera scrub`: the healer's view of the cluster, read from its admin
 * endpoint (`GET /admin/status` on its metrics port), and the operator's levers on it: the
 * rebuild rate (`POST /admin/heal`), stop/start of rebuilds and of the scrubber
 * (`POST /admin/{heal,scrub}/{stop,start}`), and `--watch`, a live progress bar. The healer
 * address is `--healer host:port`, else the port plan's healer (metrics port base + 11 +
 * storage node count).
 *
 * The progress arithmetic and the rendering are pure (`WatchTracker`, `render*`), so tests
 * check them sample by sample; `runHealCommand` is the only part doing I/O.
 */
import { parseByteCount } from '@tessera/common';
import { CliError, UsageError } from '../errors';
import type { Output } from '../status-board';
import { formatBytes, formatDurationMs } from '../table';

/** The part of the healer's /admin/status that the CLI shows (see packages/healer/README.md). */
export interface HealerStatusView {
  readonly workerId: string;
  /** Absent from healers older than the stop/start endpoints: read as running. */
  readonly healPaused?: boolean;
  /** Heal rounds completed (absent from older healers). */
  readonly healRoundCount?: number;
  readonly rebuildRateLimitBytesPerSecond: number;
  readonly measuredRebuildRateBytesPerSecond: number;
  readonly backlogStripes: number;
  readonly backlogBytes: number;
  readonly etaSeconds: number;
  /** Queued repairs waiting for a node to answer (absent from older healers). */
  readonly repairsAwaitingNodes?: number;
  readonly totals: Readonly<Record<string, number>>;
  /** Absent until the healer has completed its first round. */
  readonly lastRound?: unknown;
  readonly scrub: ScrubStatusView;
}

export interface ScrubStatusView {
  readonly passCount: number;
  readonly shardsVerifiedThisPass: number;
  readonly shardsLastPass: number;
  readonly progressRatio: number;
  readonly effectiveRateBytesPerSecond: number;
  readonly oldestUnverifiedAgeSeconds: number;
  readonly corruptShardsFound: number;
  readonly paused?: boolean;
  readonly passRunning?: boolean;
  readonly passStartedAtMs?: number;
  readonly bytesVerifiedThisPass?: number;
  readonly bytesLastPass?: number;
  /** Passes that ended early on an error, and the last such error. */
  readonly passFailureCount?: number;
  readonly lastPassError?: string;
}

export type HealerLoop = 'heal' | 'scrub';

/** Per request to the healer. Its answers are in memory and fast; a loaded host can still take seconds. */
const requestTimeoutMs = 10_000;

export async function fetchHealerStatus(healerAddress: string): Promise<HealerStatusView> {
  return healerRequest(healerAddress, '/admin/status', { method: 'GET' });
}

/** Sets the healer's rebuild throttle (operator priority) and returns its new status. */
export async function setRebuildRate(healerAddress: string, rateBytesPerSecond: number): Promise<HealerStatusView> {
  return healerRequest(healerAddress, '/admin/heal', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rateBytesPerSecond }),
  });
}

/** `stop` pauses the loop (rebuilds, or scrub passes), `start` resumes it and runs it now. */
export async function controlHealer(healerAddress: string, loop: HealerLoop, action: 'stop' | 'start'): Promise<HealerStatusView> {
  return healerRequest(healerAddress, `/admin/${loop}/${action}`, { method: 'POST' });
}

async function healerRequest(healerAddress: string, path: string, init: RequestInit): Promise<HealerStatusView> {
  let response: Response;
  try {
    response = await fetch(`http://${healerAddress}${path}`, { ...init, signal: AbortSignal.timeout(requestTimeoutMs) });
  } catch (err) {
    throw new CliError(`cannot reach the healer at ${healerAddress} (${err instanceof Error ? err.message : String(err)}); is it running? (tessera start runs one; or pass --healer host:port)`);
  }
  const text = await response.text();
  if (response.status === 404 && path !== '/admin/status') throw new CliError(`the healer at ${healerAddress} does not know ${path} (an older healer?): ${text}`);
  if (!response.ok) throw new CliError(`healer at ${healerAddress} answered ${response.status}: ${text}`);
  return JSON.parse(text) as HealerStatusView;
}

/** "100MiB", "52428800", "50MiB/s" → bytes per second. */
export function parseRateBytesPerSecond(text: string): number {
  const rate = parseByteCount(text.replace(/\/s\s*$/i, ''));
  if (rate === undefined) throw new CliError(`--rate ${JSON.stringify(text)}: give bytes per second, e.g. 52428800 or 50MiB`);
  if (!Number.isSafeInteger(rate) || rate < 1) throw new CliError(`--rate ${JSON.stringify(text)} must be at least 1 byte per second`);
  return rate;
}

/** Two aligned columns, no header row (a key/value listing). */
function renderPairs(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`.trimEnd()).join('\n');
}

export function renderHealStatus(status: HealerStatusView): string {
  const awaitingNodes = status.repairsAwaitingNodes ?? 0;
  const totals = Object.entries(status.totals).map(([name, value]): [string, string] => [name, String(value)]);
  return [
    `Healer ${status.workerId}`,
    renderPairs([
      ['rebuilds', status.healPaused === true ? 'paused (tessera heal start resumes them)' : 'running'],
      ['backlog', `${status.backlogStripes} stripes, ${formatBytes(status.backlogBytes)}`],
      ['rebuild rate', `${formatBytes(status.measuredRebuildRateBytesPerSecond)}/s (limit ${formatBytes(status.rebuildRateLimitBytesPerSecond)}/s)`],
      ...(awaitingNodes > 0 ? [['waiting for nodes', `${awaitingNodes} queued repairs (a shard on a node not answering)`] as const] : []),
      ['eta', status.backlogStripes === 0 && awaitingNodes === 0 ? 'full redundancy'
        : status.healPaused === true ? 'paused' : status.backlogStripes === 0 ? 'when those nodes answer or are declared lost' : formatEta(status.etaSeconds)],
      ...totals,
    ]),
  ].join('\n');
}

export function renderScrubStatus(status: HealerStatusView): string {
  const s = status.scrub;
  const state = s.paused === true ? (s.passRunning === true ? 'paused mid-pass (tessera scrub start resumes it)' : 'paused (tessera scrub start resumes it)')
    : s.passRunning === true ? 'pass running' : 'idle until the next pass (tessera scrub start runs one now)';
  return renderPairs([
    ['scrubber', state],
    ['passes completed', String(s.passCount)],
    ['this pass', `${s.shardsVerifiedThisPass} of ~${s.shardsLastPass} shards (${Math.round(s.progressRatio * 100)}%)`],
    ['scrub rate', `${formatBytes(s.effectiveRateBytesPerSecond)}/s`],
    ['oldest unverified', formatDurationMs(s.oldestUnverifiedAgeSeconds * 1000)],
    // corruptShardsFound counts every shard the scrubber found bad: corrupt, or missing from its node.
    ['bad shards found', String(s.corruptShardsFound)],
  ]);
}

function formatEta(seconds: number | undefined): string {
  return seconds === undefined || !Number.isFinite(seconds) || seconds <= 0 ? '--' : formatDurationMs(seconds * 1000);
}

// ---- watch: progress arithmetic (pure) ----

/** One poll of the healer, stamped with the CLI's clock. */
export interface WatchSample {
  readonly atMs: number;
  readonly status: HealerStatusView;
}

/** What one line of `--watch` shows, and what `--json` prints per poll. */
export interface WatchProgress {
  readonly loop: HealerLoop;
  readonly atMs: number;
  /** Bytes rebuilt (heal) or verified (scrub) since the watch began (heal) or the pass began (scrub). */
  readonly doneBytes: number;
  /** doneBytes + what is left; undefined when unknown (a first scrub pass has no size estimate). */
  readonly totalBytes: number | undefined;
  /** 0..1, undefined when the total is unknown. */
  readonly ratio: number | undefined;
  /** Measured over the last `rateWindowMs` of samples; undefined until two samples differ in time. */
  readonly rateBytesPerSecond: number | undefined;
  /** Left / rate; undefined when the rate is zero or unknown. */
  readonly etaSeconds: number | undefined;
  readonly paused: boolean;
  /** heal: stripes below full redundancy; scrub: shards verified in this pass. */
  readonly count: number;
  /** heal: queued repairs waiting for a node to answer (see HealerStatusView). */
  readonly awaitingNodes?: number;
  /** The watch is over: backlog zero and no repair waiting for nodes (heal), or the awaited pass finished (scrub). */
  readonly finished: boolean;
  /** scrub: a pass is in progress. heal: always true once a round has run. */
  readonly active: boolean;
  /** scrub: the watched pass ended early on this error (the watch is finished, exit 1). */
  readonly failure?: string;
}

/** The rate is measured over this much recent history: long enough to smooth, short enough to follow throttle changes. */
export const rateWindowMs = 10_000;

/**
 * Turns successive healer status samples into progress: keeps the baseline (heal: bytes rebuilt
 * when the watch began; scrub: the pass being watched) and a short history for the rate.
 */
export class WatchTracker {
  private readonly history: WatchSample[] = [];
  private baseline: WatchSample | undefined;
  /** scrub: passCount when the watched pass was first seen running (it ends when passCount passes it). */
  private watchedPassCount: number | undefined;
  /** scrub: passFailureCount at the same moment (a failed pass ends the watch too). */
  private watchedFailureCount: number | undefined;

  /**
   * @param awaitStart the loop was just started (`heal|scrub start --watch`) and this is its
   * state before the request. Scrub: an idle scrubber then means "not started yet", not
   * "nothing to watch"; the watch ends once `passCount` exceeds `passCountBefore`. Heal: a zero
   * backlog counts only from a round that began after the resume, i.e. once two more rounds
   * have completed (the first may have been under way, paused, when the request came).
   */
  constructor(
    readonly loop: HealerLoop,
    private readonly awaitStart?: { readonly passCountBefore: number; readonly passFailureCountBefore?: number; readonly healRoundCountBefore: number | undefined },
  ) {}

  add(sample: WatchSample): WatchProgress {
    this.baseline ??= sample;
    const scrub = sample.status.scrub;
    if (this.loop === 'scrub') {
      const previous = this.history[this.history.length - 1];
      // A new pass (or the first sample of a running one) restarts the rate history.
      if (previous !== undefined && previous.status.scrub.passStartedAtMs !== scrub.passStartedAtMs) this.history.length = 0;
      if (scrub.passRunning === true && this.watchedPassCount === undefined) {
        this.watchedPassCount = scrub.passCount;
        this.watchedFailureCount = scrub.passFailureCount ?? 0;
      }
    }
    this.history.push(sample);
    while (this.history.length > 2 && sample.atMs - (this.history[1]?.atMs ?? sample.atMs) >= rateWindowMs) this.history.shift();
    return this.loop === 'heal' ? this.healProgress(sample) : this.scrubProgress(sample);
  }

  private rate(value: (s: WatchSample) => number): number | undefined {
    const first = this.history[0];
    const last = this.history[this.history.length - 1];
    if (first === undefined || last === undefined || last.atMs <= first.atMs) return undefined;
    return Math.max(0, value(last) - value(first)) / ((last.atMs - first.atMs) / 1000);
  }

  private healProgress(sample: WatchSample): WatchProgress {
    const status = sample.status;
    const rebuilt = (s: WatchSample): number => s.status.totals['bytesRebuilt'] ?? 0;
    const doneBytes = Math.max(0, rebuilt(sample) - rebuilt(this.baseline ?? sample));
    const totalBytes = doneBytes + status.backlogBytes;
    const rateBytesPerSecond = this.rate(rebuilt);
    const paused = status.healPaused === true;
    const before = this.awaitStart?.healRoundCountBefore;
    const roundSeen = status.lastRound !== undefined && status.lastRound !== null
      && (before === undefined || status.healRoundCount === undefined || status.healRoundCount >= before + 2);
    return {
      loop: 'heal', atMs: sample.atMs, doneBytes, totalBytes,
      ratio: totalBytes === 0 ? (roundSeen ? 1 : undefined) : doneBytes / totalBytes,
      rateBytesPerSecond,
      etaSeconds: rateBytesPerSecond === undefined || rateBytesPerSecond === 0 || paused ? undefined : status.backlogBytes / rateBytesPerSecond,
      paused, count: status.backlogStripes, awaitingNodes: status.repairsAwaitingNodes ?? 0,
      finished: roundSeen && status.backlogStripes === 0 && status.backlogBytes === 0 && (status.repairsAwaitingNodes ?? 0) === 0,
      active: roundSeen,
    };
  }

  private scrubProgress(sample: WatchSample): WatchProgress {
    const scrub = sample.status.scrub;
    const running = scrub.passRunning === true;
    const doneBytes = scrub.bytesVerifiedThisPass ?? 0;
    // The last complete pass is the estimate of this one's size (shards come and go meanwhile).
    const estimate = scrub.passCount > 0 && (scrub.bytesLastPass ?? 0) > 0 ? Math.max(doneBytes, scrub.bytesLastPass ?? 0) : undefined;
    const failuresBefore = this.awaitStart?.passFailureCountBefore ?? this.watchedFailureCount;
    const failed = !running && failuresBefore !== undefined && (scrub.passFailureCount ?? 0) > failuresBefore;
    // A pass that ended early is as far as it got, not complete.
    const totalBytes = running || failed ? estimate : doneBytes;
    const rateBytesPerSecond = running ? this.rate((s) => s.status.scrub.bytesVerifiedThisPass ?? 0) : undefined;
    const left = totalBytes === undefined ? undefined : Math.max(0, totalBytes - doneBytes);
    let finished: boolean;
    if (failed) finished = true;
    else if (this.awaitStart !== undefined) finished = scrub.passCount > this.awaitStart.passCountBefore && !running;
    else if (this.watchedPassCount !== undefined) finished = scrub.passCount > this.watchedPassCount;
    else finished = !running; // nothing running when the watch began: nothing to wait for
    return {
      loop: 'scrub', atMs: sample.atMs, doneBytes, totalBytes,
      ratio: totalBytes === undefined ? undefined : totalBytes === 0 ? 1 : Math.min(1, doneBytes / totalBytes),
      rateBytesPerSecond,
      etaSeconds: left === undefined || rateBytesPerSecond === undefined || rateBytesPerSecond === 0 || scrub.paused === true ? undefined : left / rateBytesPerSecond,
      paused: scrub.paused === true, count: scrub.shardsVerifiedThisPass, finished, active: running,
      ...(failed ? { failure: scrub.lastPassError ?? 'unknown error' } : {}),
    };
  }
}

// ---- watch: rendering (pure) ----

const barWidthChars = 24;

/** `[#########---------------]`; an unknown ratio draws an empty bar with `?` in the middle. */
export function renderProgressBar(ratio: number | undefined, widthChars = barWidthChars): string {
  if (ratio === undefined) {
    const half = Math.floor((widthChars - 1) / 2);
    return `[${'-'.repeat(half)}?${'-'.repeat(widthChars - half - 1)}]`;
  }
  const filled = Math.round(Math.min(1, Math.max(0, ratio)) * widthChars);
  return `[${'#'.repeat(filled)}${'-'.repeat(widthChars - filled)}]`;
}

function percent(ratio: number | undefined): string {
  // Floor, so 100% means done and never "almost done, rounded up".
  return ratio === undefined ? '  ?%' : `${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

/** One line of `tessera heal --watch` / `tessera scrub --watch`. */
export function renderWatchLine(progress: WatchProgress): string {
  const size = `${formatBytes(progress.doneBytes)} / ${progress.totalBytes === undefined ? '?' : `${progress.loop === 'scrub' && progress.active ? '~' : ''}${formatBytes(progress.totalBytes)}`}`;
  const rate = progress.rateBytesPerSecond === undefined ? '--' : `${formatBytes(Math.round(progress.rateBytesPerSecond))}/s`;
  const parts = [`${progress.loop.padEnd(5)} ${renderProgressBar(progress.ratio)} ${percent(progress.ratio)}`, size, `rate ${rate}`, `ETA ${formatEta(progress.etaSeconds)}`];
  if (progress.loop === 'heal') parts.push(`backlog ${progress.count} stripes${(progress.awaitingNodes ?? 0) > 0 ? `, ${progress.awaitingNodes} waiting for nodes` : ''}`);
  else parts.push(`${progress.count} shards`);
  if (progress.failure !== undefined) parts.push(`PASS FAILED: ${progress.failure} (tessera scrub start retries)`);
  else if (progress.paused) parts.push(`PAUSED (tessera ${progress.loop} start resumes)`);
  else if (progress.finished) parts.push(progress.loop === 'heal' ? 'full redundancy' : 'pass complete');
  else if (progress.loop === 'scrub' && !progress.active) parts.push('waiting for the pass to start');
  else if (progress.loop === 'heal' && !progress.active) parts.push('waiting for the first round');
  return parts.join('  ');
}

/** Cuts a line to the terminal width (a wrapped line would break the in-place redraw). */
export function fitToWidth(line: string, columns: number | undefined): string {
  return columns === undefined || columns <= 1 || line.length < columns ? line : line.slice(0, columns - 1);
}

// ---- the command ----

export interface HealCommandEnvironment {
  readonly stdout: Output;
  readonly onSignal: (signal: 'SIGINT' | 'SIGTERM', handler: () => void) => void;
  readonly nowMs: () => number;
}

export interface HealCommandRequest {
  readonly loop: HealerLoop;
  /** Words after `heal`/`scrub`: none, `stop` or `start`. */
  readonly action: 'status' | 'stop' | 'start';
  readonly healerAddress: string;
  readonly json: boolean;
  readonly watch: boolean;
  /** heal only: a new rebuild throttle. */
  readonly rate: string | undefined;
  readonly pollIntervalMs: number;
}

/** Exit code of a watch stopped by Ctrl-C (128 + SIGINT), so scripts can tell it from "done". */
export const interruptedExitCode = 130;

export function parseHealAction(words: readonly string[], loop: HealerLoop): HealCommandRequest['action'] {
  const [word, extra] = words;
  if (extra !== undefined) throw new UsageError(`tessera ${loop}: unexpected ${JSON.stringify(extra)}`);
  if (word === undefined || word === 'status') return 'status';
  if (word === 'stop' || word === 'start') return word;
  throw new UsageError(`tessera ${loop} ${word}: expected stop, start or nothing (tessera help)`);
}

export async function runHealCommand(request: HealCommandRequest, environment: HealCommandEnvironment): Promise<number> {
  const { loop, healerAddress } = request;
  if (request.rate !== undefined && loop !== 'heal') throw new UsageError('--rate applies to tessera heal only');
  const before = request.watch && request.action === 'start' ? await fetchHealerStatus(healerAddress) : undefined;
  let status: HealerStatusView;
  if (request.action !== 'status') status = await controlHealer(healerAddress, loop, request.action);
  else if (request.rate !== undefined) status = await setRebuildRate(healerAddress, parseRateBytesPerSecond(request.rate));
  else status = await fetchHealerStatus(healerAddress);
  if (request.rate !== undefined && request.action !== 'status') status = await setRebuildRate(healerAddress, parseRateBytesPerSecond(request.rate));
  if (request.watch) {
    const awaitStart = before === undefined ? undefined
      : { passCountBefore: before.scrub.passCount, passFailureCountBefore: before.scrub.passFailureCount, healRoundCountBefore: before.healRoundCount };
    return watch(request, new WatchTracker(loop, awaitStart), environment);
  }
  const out = environment.stdout;
  if (request.json) out.write(`${JSON.stringify(loop === 'heal' ? status : status.scrub, null, 2)}\n`);
  else {
    if (request.action !== 'status') out.write(`${loop === 'heal' ? 'rebuilds' : 'scrubber'} ${request.action === 'stop' ? 'paused' : 'running'}\n`);
    out.write(`${loop === 'heal' ? renderHealStatus(status) : renderScrubStatus(status)}\n`);
  }
  return 0;
}

/**
 * Polls the healer every `pollIntervalMs` and draws the progress: redrawn in place on a TTY
 * (`\r` + clear to end of line), one plain line per change otherwise, one JSON object per poll
 * with `--json`. Ends with 0 when finished, 1 when the watched scrub pass failed, 130 on
 * Ctrl-C; an unreachable healer is an error.
 */
async function watch(request: HealCommandRequest, tracker: WatchTracker, environment: HealCommandEnvironment): Promise<number> {
  const out = environment.stdout;
  const inPlace = out.isTTY && !request.json;
  let interrupted = false;
  let wake: (() => void) | undefined;
  const interrupt = (): void => {
    interrupted = true;
    wake?.();
  };
  environment.onSignal('SIGINT', interrupt);
  environment.onSignal('SIGTERM', interrupt);
  let lastPlainKey = '';
  let drawn = false;
  let failure: string | undefined;
  for (;;) {
    let status: HealerStatusView;
    try {
      status = await fetchHealerStatus(request.healerAddress);
    } catch (err) {
      if (drawn) out.write('\n'); // the error goes on its own line, not over the bar
      throw err;
    }
    const progress = tracker.add({ atMs: environment.nowMs(), status });
    failure = progress.failure;
    if (request.json) out.write(`${JSON.stringify(progress)}\n`);
    else if (inPlace) {
      out.write(`\r${fitToWidth(renderWatchLine(progress), out.columns)}\x1b[K`);
      drawn = true;
    } else {
      // A log file gets a line when the work moved or the state changed, not one per poll.
      const key = `${progress.doneBytes}/${progress.count}/${progress.paused}/${progress.finished}/${progress.active}`;
      if (key !== lastPlainKey) out.write(`${renderWatchLine(progress)}\n`);
      lastPlainKey = key;
    }
    if (progress.finished || interrupted) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, request.pollIntervalMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
    if (interrupted) break;
  }
  if (drawn) out.write('\n');
  if (interrupted) return interruptedExitCode;
  return failure === undefined ? 0 : 1;
}
