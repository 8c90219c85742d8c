/**
 * Every setting of the `tessera` command in one catalogue, resolved with one precedence:
 *
 *   flag (--gateway-port 9010) > environment (TESSERA_GATEWAY_PORT=9010)
 *     > config file ({"gatewayPort": 9010}) > built-in default
 *
 * The config file is `--config <file>`, else TESSERA_CONFIG, else `<data-dir>/tessera.json` when
 * it exists (data-dir then comes from the flag, the environment or the default only). The
 * catalogue also renders the help text and the README table, so they cannot drift apart.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultClusterLayoutOptions } from '@tessera/local-cluster';
import type { LogLevel } from '@tessera/common';
import { UsageError } from './errors';

type Kind = 'string' | 'port' | 'count' | 'ms' | 'bytes' | 'list' | 'log-level';

interface SettingDef {
  readonly flag: string;
  readonly env: string;
  readonly fileKey: string;
  readonly kind: Kind;
  /** Rendered default; undefined: none or derived (see description). */
  readonly defaultText: string;
  readonly description: string;
}

export const settingCatalogue = {
  dataDir: { flag: 'data-dir', env: 'TESSERA_DATA_DIR', fileKey: 'dataDir', kind: 'string', defaultText: './data', description: 'cluster data, logs, keys, lock file; kept across restarts' },
  host: { flag: 'host', env: 'TESSERA_HOST', fileKey: 'host', kind: 'string', defaultText: defaultClusterLayoutOptions.host, description: 'interface every process binds' },
  zones: { flag: 'zones', env: 'TESSERA_ZONES', fileKey: 'zones', kind: 'list', defaultText: defaultClusterLayoutOptions.zones.join(','), description: 'availability zones; one metadata node each' },
  storageNodesPerZone: { flag: 'storage-nodes-per-zone', env: 'TESSERA_STORAGE_NODES_PER_ZONE', fileKey: 'storageNodesPerZone', kind: 'count', defaultText: String(defaultClusterLayoutOptions.storageNodesPerZoneCount), description: 'storage nodes in each zone' },
  gatewayPort: { flag: 'gateway-port', env: 'TESSERA_GATEWAY_PORT', fileKey: 'gatewayPort', kind: 'port', defaultText: String(defaultClusterLayoutOptions.gatewayPort), description: 'S3 endpoint port' },
  metadataPortBase: { flag: 'metadata-port-base', env: 'TESSERA_METADATA_PORT_BASE', fileKey: 'metadataPortBase', kind: 'port', defaultText: String(defaultClusterLayoutOptions.metadataPortBase), description: 'gRPC port of meta-1; meta-i uses base+i-1' },
  storagePortBase: { flag: 'storage-port-base', env: 'TESSERA_STORAGE_PORT_BASE', fileKey: 'storagePortBase', kind: 'port', defaultText: String(defaultClusterLayoutOptions.storagePortBase), description: 'gRPC port of the first storage node; the j-th uses base+j' },
  metricsPortBase: { flag: 'metrics-port-base', env: 'TESSERA_METRICS_PORT_BASE', fileKey: 'metricsPortBase', kind: 'port', defaultText: String(defaultClusterLayoutOptions.metricsPortBase), description: '/metrics + /health: gateway base, metadata base+1.., storage base+11..' },
  region: { flag: 'region', env: 'TESSERA_REGION', fileKey: 'region', kind: 'string', defaultText: 'us-east-1', description: 'S3 signing region' },
  storageCapacityBytes: { flag: 'storage-capacity-bytes', env: 'TESSERA_STORAGE_CAPACITY_BYTES', fileKey: 'storageCapacityBytes', kind: 'bytes', defaultText: '(disk size)', description: 'capacity each storage node reports' },
  readyTimeoutMs: { flag: 'ready-timeout-ms', env: 'TESSERA_READY_TIMEOUT_MS', fileKey: 'readyTimeoutMs', kind: 'ms', defaultText: '60000', description: 'how long `start` waits for every /health/ready' },
  stopGraceMs: { flag: 'stop-grace-ms', env: 'TESSERA_STOP_GRACE_MS', fileKey: 'stopGraceMs', kind: 'ms', defaultText: '10000', description: 'SIGTERM to SIGKILL delay per child' },
  restartBackoffMsBase: { flag: 'restart-backoff-ms-base', env: 'TESSERA_RESTART_BACKOFF_MS_BASE', fileKey: 'restartBackoffMsBase', kind: 'ms', defaultText: '500', description: 'first restart delay of a crashed child; doubles per crash' },
  restartBackoffMsMax: { flag: 'restart-backoff-ms-max', env: 'TESSERA_RESTART_BACKOFF_MS_MAX', fileKey: 'restartBackoffMsMax', kind: 'ms', defaultText: '30000', description: 'restart delay cap' },
  logLevel: { flag: 'log-level', env: 'TESSERA_LOG_LEVEL', fileKey: 'logLevel', kind: 'log-level', defaultText: 'info', description: 'children log level (debug, info, warn, error)' },
  metadata: { flag: 'metadata', env: 'TESSERA_METADATA', fileKey: 'metadata', kind: 'list', defaultText: '(from the port plan)', description: 'metadata addresses host:port,... for operator commands' },
  endpoint: { flag: 'endpoint', env: 'TESSERA_ENDPOINT', fileKey: 'endpoint', kind: 'string', defaultText: '(http://host:gateway-port)', description: 'S3 endpoint for bucket, cp, ls, rm' },
} as const satisfies Record<string, SettingDef>;

export type SettingName = keyof typeof settingCatalogue;

/** Flags that are not settings: the config file itself, and output switches. */
export const configFlag = 'config';

export interface CliConfig {
  readonly dataDir: string;
  readonly configPath: string | undefined;
  readonly host: string;
  readonly zones: readonly string[];
  readonly storageNodesPerZoneCount: number;
  readonly gatewayPort: number;
  readonly metadataPortBase: number;
  readonly storagePortBase: number;
  readonly metricsPortBase: number;
  readonly region: string;
  readonly storageCapacityBytes: number | undefined;
  readonly readyTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly restartBackoffMsBase: number;
  readonly restartBackoffMsMax: number;
  readonly logLevel: LogLevel;
  /** Explicit metadata addresses; undefined: derive from the port plan. */
  readonly metadataAddresses: readonly string[] | undefined;
  /** Explicit S3 endpoint; undefined: derive from host and gateway port. */
  readonly endpoint: string | undefined;
  /** Each setting's raw value (undefined: the default applies), for `tessera config`. */
  readonly values: Readonly<Partial<Record<SettingName, string>>>;
  /** Where each setting came from, for `tessera config` and for tests. */
  readonly sources: Readonly<Record<SettingName, 'flag' | 'env' | 'file' | 'default'>>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Resolves every setting; `flags` holds only setting flags and --config. */
export function resolveConfig(flags: ReadonlyMap<string, string>, env: Env, cwd: string): CliConfig {
  const dataDirRaw = flags.get('data-dir') ?? env['TESSERA_DATA_DIR'];
  const explicitConfig = flags.get(configFlag) ?? env['TESSERA_CONFIG'];
  const defaultConfig = path.resolve(cwd, dataDirRaw ?? './data', 'tessera.json');
  const configPath = explicitConfig !== undefined ? path.resolve(cwd, explicitConfig) : fs.existsSync(defaultConfig) ? defaultConfig : undefined;
  const file = configPath === undefined ? {} : readConfigFile(configPath, explicitConfig !== undefined);
  const sources: Partial<Record<SettingName, 'flag' | 'env' | 'file' | 'default'>> = {};
  const values: Partial<Record<SettingName, string>> = {};
  const raw = (name: SettingName): string | undefined => {
    const def: SettingDef = settingCatalogue[name];
    const fromFile = file[def.fileKey];
    const picked: Array<['flag' | 'env' | 'file', string | undefined]> = [
      ['flag', flags.get(def.flag)], ['env', env[def.env]],
      ['file', fromFile === undefined ? undefined : Array.isArray(fromFile) ? fromFile.join(',') : String(fromFile)],
    ];
    for (const [source, value] of picked) {
      if (value !== undefined && value !== '') {
        sources[name] = source;
        values[name] = value;
        return value;
      }
    }
    sources[name] = 'default';
    return undefined;
  };
  const int = (name: SettingName, fallback: number, min: number, max: number): number => {
    const text = raw(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) throw new UsageError(`${describeSource(name, sources[name])}: ${JSON.stringify(text)} must be an integer in ${min}..${max}`);
    return value;
  };
  const list = (name: SettingName): string[] | undefined => raw(name)?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const d = defaultClusterLayoutOptions;
  const logLevel = raw('logLevel') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new UsageError(`${describeSource('logLevel', sources.logLevel)}: use debug, info, warn or error`);
  const capacity = raw('storageCapacityBytes');
  const config: Omit<CliConfig, 'sources' | 'values'> = {
    dataDir: path.resolve(cwd, raw('dataDir') ?? './data'),
    configPath,
    host: raw('host') ?? d.host,
    zones: list('zones') ?? [...d.zones],
    storageNodesPerZoneCount: int('storageNodesPerZone', d.storageNodesPerZoneCount, 1, 64),
    gatewayPort: int('gatewayPort', d.gatewayPort, 1, 65_535),
    metadataPortBase: int('metadataPortBase', d.metadataPortBase, 1, 65_535),
    storagePortBase: int('storagePortBase', d.storagePortBase, 1, 65_535),
    metricsPortBase: int('metricsPortBase', d.metricsPortBase, 1, 65_535),
    region: raw('region') ?? 'us-east-1',
    storageCapacityBytes: capacity === undefined ? undefined : int('storageCapacityBytes', 0, 1, Number.MAX_SAFE_INTEGER),
    readyTimeoutMs: int('readyTimeoutMs', 60_000, 1, 3_600_000),
    stopGraceMs: int('stopGraceMs', 10_000, 1, 600_000),
    restartBackoffMsBase: int('restartBackoffMsBase', 500, 1, 600_000),
    restartBackoffMsMax: int('restartBackoffMsMax', 30_000, 1, 3_600_000),
    logLevel: logLevel as LogLevel,
    metadataAddresses: list('metadata'),
    endpoint: raw('endpoint'),
  };
  if (config.restartBackoffMsMax < config.restartBackoffMsBase) throw new UsageError('--restart-backoff-ms-max must be at least --restart-backoff-ms-base');
  return { ...config, values, sources: sources as Record<SettingName, 'flag' | 'env' | 'file' | 'default'> };
}

function describeSource(name: SettingName, source: string | undefined): string {
  const def = settingCatalogue[name];
  if (source === 'env') return def.env;
  if (source === 'file') return `config key ${def.fileKey}`;
  return `--${def.flag}`;
}

function readConfigFile(configPath: string, explicit: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(configPath, 'utf8');
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read config file ${configPath}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${configPath} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`config file ${configPath} must hold a JSON object`);
  const known = new Set<string>(Object.values(settingCatalogue).map((s) => s.fileKey));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) throw new UsageError(`config file ${configPath}: unknown key ${JSON.stringify(key)} (known: ${[...known].join(', ')})`);
  }
  return parsed as Record<string, unknown>;
}

/** Setting flags (they take a value) plus --config. */
export const settingFlags: ReadonlySet<string> = new Set([configFlag, ...Object.values(settingCatalogue).map((s) => s.flag)]);

/** The markdown table of every setting (README and `tessera help config`). */
export function renderSettingsTable(): string {
  const rows = Object.values(settingCatalogue).map((s: SettingDef) => `| \`--${s.flag}\` | \`${s.env}\` | \`${s.fileKey}\` | ${s.defaultText} | ${s.description} |`);
  return ['| Flag | Environment | Config key | Default | Meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
