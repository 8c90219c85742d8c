import { checkHostPort, parseByteCount, readJsonObjectFile } from '@tessera/common';
import type { LogLevel } from '@tessera/common';
import { storageNodeDefaults } from './storage-node-server';

/** Everything `main.ts` needs to run a node, after flags, env and the config file are merged. */
export interface StorageNodeConfig {
  readonly nodeId: string;
  readonly zone: string;
  readonly listen: string;
  readonly dataDir: string;
  /** Empty string disables the HTTP metrics/health endpoint. */
  readonly metricsListen: string;
  readonly capacityBytes: number | undefined;
  /** Free space left on the disk for others; undefined = 5% of the disk, at most 2 GiB. */
  readonly diskReserveBytes: number | undefined;
  readonly shardSizeBytesMax: number;
  readonly concurrentStreamCountMax: number;
  readonly writeIdleTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
  /** Metadata service addresses to register and heartbeat with; empty: standalone node. */
  readonly metadataAddresses: readonly string[];
  /** Address announced to the metadata service; undefined: the bound --listen address. */
  readonly advertiseAddress: string | undefined;
  readonly heartbeatIntervalMs: number;
}

/** A bad flag, env variable or config file: main prints it and exits 2. */
export class ConfigError extends Error {
  static readonly errorName = 'ConfigError';
  constructor(message: string) {
    super(message);
    this.name = ConfigError.errorName;
  }
}

interface Setting {
  readonly flag: string;
  readonly env: string;
  readonly fileKey: string;
}

const settings = {
  nodeId: { flag: 'node-id', env: 'TESSERA_NODE_ID', fileKey: 'nodeId' },
  zone: { flag: 'zone', env: 'TESSERA_ZONE', fileKey: 'zone' },
  listen: { flag: 'listen', env: 'TESSERA_LISTEN', fileKey: 'listen' },
  dataDir: { flag: 'data-dir', env: 'TESSERA_DATA_DIR', fileKey: 'dataDir' },
  metricsListen: { flag: 'metrics-listen', env: 'TESSERA_METRICS_LISTEN', fileKey: 'metricsListen' },
  capacityBytes: { flag: 'capacity-bytes', env: 'TESSERA_CAPACITY_BYTES', fileKey: 'capacityBytes' },
  diskReserveBytes: { flag: 'disk-reserve-bytes', env: 'TESSERA_DISK_RESERVE_BYTES', fileKey: 'diskReserveBytes' },
  shardSizeBytesMax: { flag: 'max-shard-size-bytes', env: 'TESSERA_MAX_SHARD_SIZE_BYTES', fileKey: 'maxShardSizeBytes' },
  concurrentStreamCountMax: { flag: 'max-concurrent-streams', env: 'TESSERA_MAX_CONCURRENT_STREAMS', fileKey: 'maxConcurrentStreams' },
  writeIdleTimeoutMs: { flag: 'write-idle-timeout-ms', env: 'TESSERA_WRITE_IDLE_TIMEOUT_MS', fileKey: 'writeIdleTimeoutMs' },
  shutdownGraceMs: { flag: 'shutdown-grace-ms', env: 'TESSERA_SHUTDOWN_GRACE_MS', fileKey: 'shutdownGraceMs' },
  logLevel: { flag: 'log-level', env: 'TESSERA_LOG_LEVEL', fileKey: 'logLevel' },
  metadataAddresses: { flag: 'metadata', env: 'TESSERA_METADATA', fileKey: 'metadata' },
  advertiseAddress: { flag: 'advertise', env: 'TESSERA_ADVERTISE', fileKey: 'advertise' },
  heartbeatIntervalMs: { flag: 'heartbeat-interval-ms', env: 'TESSERA_HEARTBEAT_INTERVAL_MS', fileKey: 'heartbeatIntervalMs' },
} as const satisfies Record<keyof StorageNodeConfig, Setting>;

export const storageNodeUsage = `Usage: node packages/storage-node/dist/main.js [options]

Options (flag > env > config file > default):
  --config <file>                 JSON config file (env TESSERA_CONFIG); keys are camelCase:
                                  nodeId, zone, listen, dataDir, metricsListen, capacityBytes,
                                  diskReserveBytes, maxShardSizeBytes, maxConcurrentStreams,
                                  writeIdleTimeoutMs, shutdownGraceMs, logLevel, metadata,
                                  advertise, heartbeatIntervalMs
  --node-id <id>                  node identity (TESSERA_NODE_ID, default storage-1)
  --zone <zone>                   availability zone (TESSERA_ZONE, default local)
  --listen <host:port>            gRPC address (TESSERA_LISTEN, default 127.0.0.1:7100)
  --data-dir <dir>                data directory (TESSERA_DATA_DIR, default ./data/<node-id>)
  --metrics-listen <host:port>    /metrics and /health (TESSERA_METRICS_LISTEN, default
                                  127.0.0.1:7190; "" disables)
  --capacity-bytes <size>         capacity limit, e.g. 500GiB (TESSERA_CAPACITY_BYTES; default the disk)
  --disk-reserve-bytes <size>     free space the node never uses, left to the metadata service and
                                  the system (TESSERA_DISK_RESERVE_BYTES; default 5% of the disk,
                                  at most 2GiB; 0 uses the disk to the last byte)
  --max-shard-size-bytes <size>   (TESSERA_MAX_SHARD_SIZE_BYTES, default 4GiB)
  --max-concurrent-streams <n>    (TESSERA_MAX_CONCURRENT_STREAMS, default 256)
  --write-idle-timeout-ms <ms>    (TESSERA_WRITE_IDLE_TIMEOUT_MS, default 30000)
  --shutdown-grace-ms <ms>        (TESSERA_SHUTDOWN_GRACE_MS, default 10000)
  --log-level debug|info|warn|error (TESSERA_LOG_LEVEL, default info)
  --metadata <host:port,...>      metadata service to register and heartbeat with
                                  (TESSERA_METADATA; default none: a standalone node)
  --advertise <host:port>         address announced to the metadata service
                                  (TESSERA_ADVERTISE; default the bound --listen address)
  --heartbeat-interval-ms <ms>    (TESSERA_HEARTBEAT_INTERVAL_MS, default 2000)
  --help
`;

/**
 * Merges flags, env and the config file. Pure: the caller passes argv, env and a file reader,
 * so only main.ts touches process state.
 */
export function resolveStorageNodeConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): StorageNodeConfig {
  const flags = parseFlags(argv);
  const configPath = flags.get('config') ?? env['TESSERA_CONFIG'];
  const file = configPath === undefined ? {} : readJsonObjectFile(configPath, readFile, configError);
  const known = new Set<string>(Object.values(settings).map((s) => s.fileKey));
  for (const key of Object.keys(file)) if (!known.has(key)) throw new ConfigError(`config file ${configPath}: unknown key ${JSON.stringify(key)}`);
  const pick = (s: Setting): string | undefined => {
    const fromFile = file[s.fileKey];
    return flags.get(s.flag) ?? env[s.env] ?? (fromFile === undefined ? undefined : String(fromFile));
  };
  const nodeId = pick(settings.nodeId) ?? 'storage-1';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeId)) throw new ConfigError(`node id ${JSON.stringify(nodeId)}: use 1..64 of [A-Za-z0-9._-]`);
  const capacity = pick(settings.capacityBytes);
  const diskReserve = pick(settings.diskReserveBytes);
  const logLevel = pick(settings.logLevel) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new ConfigError(`log level ${logLevel}: use debug, info, warn or error`);
  const config: StorageNodeConfig = {
    nodeId,
    zone: pick(settings.zone) ?? 'local',
    listen: hostPort(pick(settings.listen) ?? '127.0.0.1:7100', '--listen'),
    dataDir: pick(settings.dataDir) ?? `./data/${nodeId}`,
    metricsListen: metricsListenOf(pick(settings.metricsListen) ?? '127.0.0.1:7190'),
    capacityBytes: capacity === undefined || capacity === '' ? undefined : parseSizeBytes(capacity, '--capacity-bytes'),
    diskReserveBytes: diskReserve === undefined || diskReserve === '' ? undefined : diskReserve.trim() === '0' ? 0 : parseSizeBytes(diskReserve, '--disk-reserve-bytes'),
    shardSizeBytesMax: parseSizeBytes(pick(settings.shardSizeBytesMax) ?? String(storageNodeDefaults.shardSizeBytesMax), '--max-shard-size-bytes'),
    concurrentStreamCountMax: parsePositiveInt(pick(settings.concurrentStreamCountMax) ?? String(storageNodeDefaults.concurrentStreamCountMax), '--max-concurrent-streams'),
    writeIdleTimeoutMs: parsePositiveInt(pick(settings.writeIdleTimeoutMs) ?? String(storageNodeDefaults.writeIdleTimeoutMs), '--write-idle-timeout-ms'),
    shutdownGraceMs: parsePositiveInt(pick(settings.shutdownGraceMs) ?? String(storageNodeDefaults.shutdownGraceMs), '--shutdown-grace-ms'),
    logLevel: logLevel as LogLevel,
    metadataAddresses: (pick(settings.metadataAddresses) ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '')
      .map((a) => hostPort(a, '--metadata')),
    advertiseAddress: optionalHostPort(pick(settings.advertiseAddress), '--advertise'),
    heartbeatIntervalMs: parsePositiveInt(pick(settings.heartbeatIntervalMs) ?? '2000', '--heartbeat-interval-ms'),
  };
  return config;
}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  const allowed = new Set<string>(['config', ...Object.values(settings).map((s) => s.flag)]);
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!allowed.has(name)) throw new ConfigError(`unknown flag --${name}`);
    const value = eq === -1 ? argv[i + 1] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`flag --${name} needs a value`);
    if (eq === -1) i += 1;
    flags.set(name, value);
  }
  return flags;
}

/** "1048576", "64MiB", "1.5GB" → bytes. */
export function parseSizeBytes(text: string, what: string): number {
  const bytes = parseByteCount(text);
  if (bytes === undefined) throw new ConfigError(`${what}: ${JSON.stringify(text)} is not a size (e.g. 1048576, 64MiB, 2GB)`);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new ConfigError(`${what}: ${JSON.stringify(text)} must be a positive size`);
  return bytes;
}

function parsePositiveInt(text: string, what: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0) throw new ConfigError(`${what}: ${JSON.stringify(text)} must be a positive integer`);
  return value;
}

const configError = (message: string): ConfigError => new ConfigError(message);

function hostPort(text: string, what: string): string {
  return checkHostPort(text, what, configError);
}

function optionalHostPort(text: string | undefined, what: string): string | undefined {
  return text === undefined || text === '' ? undefined : hostPort(text, what);
}

function metricsListenOf(text: string): string {
  return text === '' ? '' : hostPort(text, '--metrics-listen');
}
