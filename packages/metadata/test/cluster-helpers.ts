import { SeededRandom, silentLogger, systemClock } from '@tessera/common';
import type { Logger } from '@tessera/common';
import { findFreePortBlock, MetadataClient } from '@tessera/rpc';
import { startMetadataNode } from '../src/metadata-node';
import type { MetadataNodeOptions, RunningMetadataNode } from '../src/metadata-node';

/**
 * Static Raft peers must know each other's addresses before they start, so their ports are
 * picked free beforehand. They come from below the kernel's ephemeral range (findFreePortBlock):
 * a port from `listen(0)` lies inside it, where any outgoing connection or port-0 listener of a
 * test running alongside can take it before the node binds it.
 */
export async function reservePorts(count: number): Promise<number[]> {
  const base = await findFreePortBlock('127.0.0.1', count);
  return Array.from({ length: count }, (_, i) => base + i);
}

/** Fast timing for tests: 20 ms ticks, elections after 200-400 ms. */
export function testNodeOptions(nodeId: string, peers: Map<string, string>, dataDir: string, overrides: Partial<MetadataNodeOptions> = {}): MetadataNodeOptions {
  return {
    nodeId, listenAddress: peers.get(nodeId) ?? '', peers, dataDir, metricsListenAddress: undefined,
    tickIntervalMs: 20, electionTimeoutTicks: 10, heartbeatIntervalTicks: 1, snapshotEveryEntryCount: 10_000, snapshotEveryLogBytes: 32 * 1024 * 1024,
    requestTimeoutMs: 3_000, pendingRequestCountMax: 10_000,
    liveness: { suspectAfterMs: 1_000, downAfterMs: 3_000, checkIntervalMs: 100, staleWriteAfterMs: 2_000, requestDedupRetentionMs: 600_000 },
    catalogue: { partSizeBytesMin: 5 },
    join: false,
    ...overrides,
  };
}

export async function startInProcessNode(options: MetadataNodeOptions, seed: number, logger: Logger = silentLogger): Promise<RunningMetadataNode> {
  return startMetadataNode(options, { clock: systemClock, random: new SeededRandom(seed), logger });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  let lastError: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}${lastError === undefined ? '' : `: ${String(lastError)}`}`);
}

/** Asks every address for its status until they agree on one leader; returns its id. */
export async function waitForLeader(client: MetadataClient, addresses: readonly string[], timeoutMs = 10_000): Promise<string> {
  return waitFor('a leader', async () => {
    const statuses = await Promise.all(addresses.map((a) => client.getClusterStatus(a).catch(() => undefined)));
    const leaders = statuses.filter((s) => s !== undefined && s.role === 'leader');
    return leaders.length === 1 ? leaders[0]?.nodeId : undefined;
  }, timeoutMs);
}

export { MetadataClient };
