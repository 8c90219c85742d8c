/**
 * Settings of a metadata node process. Precedence: flags > TESSERA_* environment variables >
 * JSON config file (`--config`; keys are the flag names) > defaults. Pure: the caller passes
 * argv, env and a file reader, so only main.ts touches process state.
 */
import { checkHostPort, readJsonObjectFile } from '@tessera/common';
import type { LogLevel } from '@tessera/common';
import { defaultCatalogueOptions } from './catalogue-state-machine';
import { defaultMetadataNodeTiming } from './metadata-node';
import type { MetadataNodeOptions } from './metadata-node';

/** A setting that cannot be used; main.ts prints the message and the hint to --help. */
export class MetadataConfigError extends Error {
  override readonly name = 'MetadataConfigError';
}

/** Flag name -> environment variable (the config file uses the flag names as keys). */
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
  'snapshot-every-log-bytes': 'TESSERA_SNAPSHOT_EVERY_LOG_BYTES',
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

const d = defaultMetadataNodeTiming;

export const metadataNodeUsage = `Usage: node packages/metadata/dist/main.js --node-id <id> --listen <host:port> --peers <id=host:port,...> --data-dir <dir> [options]

Options (flag > env > config file > default):
  --config <file>                      JSON config file (env TESSERA_CONFIG); keys are the flag names
  --node-id <id>                       this member's id, one of --peers (TESSERA_NODE_ID, required)
  --listen <host:port>                 gRPC address for clients and Raft peers (TESSERA_LISTEN, required)
  --peers <id=host:port,...>           every founding member, this one included (TESSERA_PEERS, required)
  --data-dir <dir>                     LevelDB directories (TESSERA_DATA_DIR, required)
  --metrics-listen <host:port>         /metrics and /health (TESSERA_METRICS_LISTEN, default none)
  --tick-interval-ms <ms>              one Raft tick (TESSERA_TICK_INTERVAL_MS, default ${d.tickIntervalMs})
  --election-timeout-ticks <n>         elections after [n, 2n) ticks (TESSERA_ELECTION_TIMEOUT_TICKS, default ${d.electionTimeoutTicks})
  --heartbeat-interval-ticks <n>       leader heartbeat period (TESSERA_HEARTBEAT_INTERVAL_TICKS, default ${d.heartbeatIntervalTicks})
  --snapshot-every-entries <n>         snapshot and log compaction period (TESSERA_SNAPSHOT_EVERY_ENTRIES, default ${d.snapshotEveryEntryCount})
  --snapshot-every-log-bytes <n>       ... or sooner, once the applied entries since the last one hold n
                                       bytes; the log is mirrored in memory (TESSERA_SNAPSHOT_EVERY_LOG_BYTES, default ${d.snapshotEveryLogBytes})
  --request-timeout-ms <ms>            unanswered proposals and reads fail after this (TESSERA_REQUEST_TIMEOUT_MS, default ${d.requestTimeoutMs})
  --suspect-after-ms <ms>              storage node silent this long: suspect (TESSERA_SUSPECT_AFTER_MS, default ${d.liveness.suspectAfterMs})
  --down-after-ms <ms>                 storage node silent this long: down (TESSERA_DOWN_AFTER_MS, default ${d.liveness.downAfterMs})
  --stale-write-after-ms <ms>          abort in-progress writes older than this (TESSERA_STALE_WRITE_AFTER_MS, default ${d.liveness.staleWriteAfterMs})
  --request-dedup-retention-ms <ms>    how long request ids are remembered (TESSERA_REQUEST_DEDUP_RETENTION_MS, default ${d.liveness.requestDedupRetentionMs})
  --part-size-min-bytes <n>            S3 minimum part size (TESSERA_PART_SIZE_MIN_BYTES, default ${defaultCatalogueOptions.partSizeBytesMin})
  --log-level debug|info|warn|error    (TESSERA_LOG_LEVEL, default info)
  --join                               start as a new member of a running group (TESSERA_JOIN=true)
  --help
`;

export type MetadataNodeConfig = MetadataNodeOptions & { readonly logLevel: LogLevel };

export function resolveMetadataNodeConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): MetadataNodeConfig {
  const flags = parseFlags(argv);
  const configPath = flags.get('config') ?? env['TESSERA_CONFIG'];
  const file = configPath === undefined ? {} : readJsonObjectFile(configPath, readFile, configError);
  for (const key of Object.keys(file)) if (!(key in settings)) throw new MetadataConfigError(`config file ${configPath ?? ''}: unknown key ${JSON.stringify(key)}`);
  const get = (name: SettingName): string | undefined => {
    const fromFile = file[name];
    return flags.get(name) ?? env[settings[name]] ?? (fromFile === undefined ? undefined : String(fromFile));
  };
  const required = (name: SettingName): string => {
    const value = get(name);
    if (value === undefined || value.trim() === '') throw new MetadataConfigError(`--${name} (or ${settings[name]}) is required`);
    return value.trim();
  };
  const positiveInt = (name: SettingName, fallback: number): number => {
    const text = get(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0) {
      throw new MetadataConfigError(`--${name}: ${JSON.stringify(text)} must be a positive integer`);
    }
    return value;
  };
  const logLevel = get('log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new MetadataConfigError(`--log-level: ${JSON.stringify(logLevel)}: use debug, info, warn or error`);
  const join = get('join');
  if (join !== undefined && !['', 'true', 'false'].includes(join)) throw new MetadataConfigError(`--join: ${JSON.stringify(join)}: use true or false (or the bare flag)`);
  const metricsListen = get('metrics-listen');
  return {
    nodeId: required('node-id'),
    listenAddress: hostPort(required('listen'), '--listen'),
    peers: parsePeers(required('peers')),
    dataDir: required('data-dir'),
    metricsListenAddress: metricsListen === undefined || metricsListen === '' ? undefined : hostPort(metricsListen, '--metrics-listen'),
    tickIntervalMs: positiveInt('tick-interval-ms', d.tickIntervalMs),
    electionTimeoutTicks: positiveInt('election-timeout-ticks', d.electionTimeoutTicks),
    heartbeatIntervalTicks: positiveInt('heartbeat-interval-ticks', d.heartbeatIntervalTicks),
    snapshotEveryEntryCount: positiveInt('snapshot-every-entries', d.snapshotEveryEntryCount),
    snapshotEveryLogBytes: positiveInt('snapshot-every-log-bytes', d.snapshotEveryLogBytes),
    requestTimeoutMs: positiveInt('request-timeout-ms', d.requestTimeoutMs),
    pendingRequestCountMax: d.pendingRequestCountMax,
    liveness: {
      suspectAfterMs: positiveInt('suspect-after-ms', d.liveness.suspectAfterMs),
      downAfterMs: positiveInt('down-after-ms', d.liveness.downAfterMs),
      checkIntervalMs: d.liveness.checkIntervalMs,
      staleWriteAfterMs: positiveInt('stale-write-after-ms', d.liveness.staleWriteAfterMs),
      requestDedupRetentionMs: positiveInt('request-dedup-retention-ms', d.liveness.requestDedupRetentionMs),
    },
    catalogue: { partSizeBytesMin: positiveInt('part-size-min-bytes', defaultCatalogueOptions.partSizeBytesMin) },
    join: join === 'true' || join === '',
    logLevel: logLevel as LogLevel,
  };
}

/** `--name value`, `--name=value`, or a bare `--join`. */
function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new MetadataConfigError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (name !== 'config' && !(name in settings)) throw new MetadataConfigError(`unknown flag --${name}`);
    if (eq > 0) {
      flags.set(name, arg.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    if (name === 'join' && (next === undefined || next.startsWith('--'))) {
      flags.set(name, '');
      continue;
    }
    if (next === undefined || next.startsWith('--')) throw new MetadataConfigError(`flag --${name} needs a value`);
    flags.set(name, next);
    i++;
  }
  return flags;
}

function parsePeers(text: string): Map<string, string> {
  const peers = new Map<string, string>();
  for (const part of text.split(',').filter((p) => p.trim() !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new MetadataConfigError(`--peers entries are id=host:port, got ${JSON.stringify(part)}`);
    const id = part.slice(0, eq).trim();
    if (peers.has(id)) throw new MetadataConfigError(`--peers names ${id} twice`);
    peers.set(id, hostPort(part.slice(eq + 1).trim(), `--peers entry ${id}`));
  }
  return peers;
}

const configError = (message: string): MetadataConfigError => new MetadataConfigError(message);

function hostPort(text: string, what: string): string {
  return checkHostPort(text, what, configError);
}
