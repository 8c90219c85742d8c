/**
 * `tessera heal` and `tessera scrub`: the healer's view of the cluster, read from its admin
 * endpoint (`GET /admin/status` on its metrics port), and the operator's one lever on it, the
 * rebuild rate (`POST /admin/heal`). The healer address is `--healer host:port`, else the port
 * plan's healer (metrics port base + 11 + storage node count).
 */
import { parseByteCount } from '@tessera/common';
import { CliError } from '../errors';
import { formatBytes, formatDurationMs, renderTable } from '../table';

/** The part of the healer's /admin/status that the CLI shows (see packages/healer/README.md). */
export interface HealerStatusView {
  readonly workerId: string;
  readonly rebuildRateLimitBytesPerSecond: number;
  readonly measuredRebuildRateBytesPerSecond: number;
  readonly backlogStripes: number;
  readonly backlogBytes: number;
  readonly etaSeconds: number;
  readonly totals: Readonly<Record<string, number>>;
  readonly scrub: {
    readonly passCount: number;
    readonly shardsVerifiedThisPass: number;
    readonly shardsLastPass: number;
    readonly progressRatio: number;
    readonly effectiveRateBytesPerSecond: number;
    readonly oldestUnverifiedAgeSeconds: number;
    readonly corruptShardsFound: number;
  };
}

const requestTimeoutMs = 3_000;

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

async function healerRequest(healerAddress: string, path: string, init: RequestInit): Promise<HealerStatusView> {
  let response: Response;
  try {
    response = await fetch(`http://${healerAddress}${path}`, { ...init, signal: AbortSignal.timeout(requestTimeoutMs) });
  } catch (err) {
    throw new CliError(`cannot reach the healer at ${healerAddress} (${err instanceof Error ? err.message : String(err)}); is it running? (tessera start runs one; or pass --healer host:port)`);
  }
  const text = await response.text();
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

export function renderHealStatus(status: HealerStatusView): string {
  const totals = Object.entries(status.totals).map(([name, value]) => [name, String(value)]);
  return [
    `Healer ${status.workerId}`,
    renderTable(['', ''], [
      ['backlog', `${status.backlogStripes} stripes, ${formatBytes(status.backlogBytes)}`],
      ['rebuild rate', `${formatBytes(status.measuredRebuildRateBytesPerSecond)}/s (limit ${formatBytes(status.rebuildRateLimitBytesPerSecond)}/s)`],
      ['eta', status.backlogStripes === 0 ? 'full redundancy' : formatDurationMs(status.etaSeconds * 1000)],
      ...totals,
    ]),
  ].join('\n');
}

export function renderScrubStatus(status: HealerStatusView): string {
  const s = status.scrub;
  return renderTable(['', ''], [
    ['passes completed', String(s.passCount)],
    ['this pass', `${s.shardsVerifiedThisPass} of ~${s.shardsLastPass} shards (${Math.round(s.progressRatio * 100)}%)`],
    ['scrub rate', `${formatBytes(s.effectiveRateBytesPerSecond)}/s`],
    ['oldest unverified', formatDurationMs(s.oldestUnverifiedAgeSeconds * 1000)],
    ['corrupt shards found', String(s.corruptShardsFound)],
  ]);
}
