/**
 * Composition root of a metadata node: the only file that reads argv, the environment and the
 * config file. Precedence: flags > TESSERA_* environment variables > JSON config file > defaults.
 *
 *   node packages/metadata/dist/main.js --node-id meta-1 --listen 127.0.0.1:7001 \
 *     --peers meta-1=127.0.0.1:7001,meta-2=127.0.0.1:7002,meta-3=127.0.0.1:7003 \
 *     --data-dir /var/lib/tessera/meta-1 --metrics-listen 127.0.0.1:9101
 */
import { readFileSync } from 'node:fs';
import { configureServerHeap, createJsonLogger, systemClock, systemRandom } from '@tessera/common';
import type { LogLevel } from '@tessera/common';
import { defaultCatalogueOptions } from './catalogue-state-machine';
import { defaultMetadataNodeTiming, startMetadataNode } from './metadata-node';
import type { MetadataNodeOptions } from './metadata-node';

/** Flag name -> environment variable and config-file key. */
const settings = {
  'node-id': 'TESSERA_NODE_ID',
  listen: 'TESSERA_LISTEN',
  peers: 'TESSERA_PEERS',
  'data-dir': 'TESSERA_DATA_DIR',
  'metrics-listen': 'TESSERA_METRICS_LISTEN',
  'tick-interval-ms': 'TESSERA_TICK_INTERVAL_MS',
  'election-timeout-ticks': 'TESSERA_ELECTION_TIMEOUT_TICKS',
  'heartbeat-interval-ticks': 'TESSERA_HEARTBEAT_INTERVAL_TICKS',
  'snapshot-every-entries': 'TESSERA_SNAPSHOT_EVERY_ENTRIES',
  'request-timeout-ms': 'TESSERA_REQUEST_TIMEOUT_MS',
  'suspect-after-ms': 'TESSERA_SUSPECT_AFTER_MS',
  'down-after-ms': 'TESSERA_DOWN_AFTER_MS',
  'stale-write-after-ms': 'TESSERA_STALE_WRITE_AFTER_MS',
  'request-dedup-retention-ms': 'TESSERA_REQUEST_DEDUP_RETENTION_MS',
  'part-size-min-bytes': 'TESSERA_PART_SIZE_MIN_BYTES',
  'log-level': 'TESSERA_LOG_LEVEL',
  join: 'TESSERA_JOIN',
} as const;
type SettingName = keyof typeof settings;

function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const next = argv[i + 1];
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (next === undefined || next.startsWith('--')) flags.set(arg.slice(2), ''); // a bare switch, e.g. --join
    else flags.set(arg.slice(2), argv[++i] ?? '');
  }
  return flags;
}

function resolveSettings(argv: readonly string[], env: NodeJS.ProcessEnv): (name: SettingName) => string | undefined {
  const flags = parseFlags(argv);
  const configPath = flags.get('config') ?? env['TESSERA_CONFIG'];
  const file = configPath === undefined ? {} : (JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>);
  for (const name of flags.keys()) if (name !== 'config' && !(name in settings)) throw new Error(`unknown flag --${name}`);
  return (name) => flags.get(name) ?? env[settings[name]] ?? (file[name] === undefined ? undefined : String(file[name]));
}

function parsePeers(text: string): Map<string, string> {
  const peers = new Map<string, string>();
  for (const part of text.split(',').filter((p) => p.trim() !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--peers entries are id=host:port, got ${part}`);
    peers.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return peers;
}

export function optionsFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv): MetadataNodeOptions & { logLevel: LogLevel } {
  const get = resolveSettings(argv, env);
  const required = (name: SettingName): string => {
    const value = get(name);
    if (value === undefined || value === '') throw new Error(`--${name} (or ${settings[name]}) is required`);
    return value;
  };
  const number = (name: SettingName, fallback: number): number => {
    const value = get(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new Error(`--${name} must be a number, got ${value}`);
    return parsed;
  };
  const d = defaultMetadataNodeTiming;
  return {
    nodeId: required('node-id'),
    listenAddress: required('listen'),
    peers: parsePeers(required('peers')),
    dataDir: required('data-dir'),
    metricsListenAddress: get('metrics-listen'),
    tickIntervalMs: number('tick-interval-ms', d.tickIntervalMs),
    electionTimeoutTicks: number('election-timeout-ticks', d.electionTimeoutTicks),
    heartbeatIntervalTicks: number('heartbeat-interval-ticks', d.heartbeatIntervalTicks),
    snapshotEveryEntryCount: number('snapshot-every-entries', d.snapshotEveryEntryCount),
    requestTimeoutMs: number('request-timeout-ms', d.requestTimeoutMs),
    pendingRequestCountMax: d.pendingRequestCountMax,
    liveness: {
      suspectAfterMs: number('suspect-after-ms', d.liveness.suspectAfterMs),
      downAfterMs: number('down-after-ms', d.liveness.downAfterMs),
      checkIntervalMs: d.liveness.checkIntervalMs,
      staleWriteAfterMs: number('stale-write-after-ms', d.liveness.staleWriteAfterMs),
      requestDedupRetentionMs: number('request-dedup-retention-ms', d.liveness.requestDedupRetentionMs),
    },
    catalogue: { partSizeBytesMin: number('part-size-min-bytes', defaultCatalogueOptions.partSizeBytesMin) },
    join: get('join') === 'true' || get('join') === '',
    logLevel: (get('log-level') ?? 'info') as LogLevel,
  };
}

async function main(): Promise<void> {
  configureServerHeap();
  const options = optionsFromArgs(process.argv.slice(2), process.env);
  const logger = createJsonLogger({ levelMin: options.logLevel, write: (line) => process.stderr.write(`${line}\n`), nowMs: () => systemClock.nowMs() });
  const node = await startMetadataNode(options, { clock: systemClock, random: systemRandom, logger });
  logger.info('metadata node listening', { nodeId: options.nodeId, grpcPort: node.grpcPort, metricsPort: node.metricsPort });
  let shuttingDown = false;
  const shutdown = (signal: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('shutting down', { signal });
    // SIGTERM: hand leadership over first so clients see no election timeout (rolling restarts).
    void node.shutdownGracefully().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`metadata node failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
