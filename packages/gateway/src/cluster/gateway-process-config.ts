/**
 * The gateway process's settings from flags, environment and an optional JSON config file, as
 * a pure function (only main.ts reads argv and env). Precedence: flags > TESSERA_* environment
 * > config file (`--config`, keys are the flag names without dashes) > defaults. Every value is
 * validated here, at startup, with a message naming the flag.
 */
import { readFileSync } from 'node:fs';
import { dataPathOptions } from './data-path-options';
import type { DataPathOptions } from './data-path-options';
import { keepAliveTimeoutMsDefault } from '../server';

export interface GatewayProcessConfig {
  readonly listenHost: string;
  readonly listenPort: number;
  readonly metricsListen: { readonly host: string; readonly port: number } | undefined;
  readonly metadataAddresses: readonly string[];
  readonly region: string;
  readonly virtualHostBaseDomains: readonly string[];
  readonly rootAccessKeyId: string;
  readonly rootSecretAccessKey: string;
  readonly dataPath: DataPathOptions;
  /** SIGTERM/SIGINT: requests in flight get this long to finish before connections are cut. */
  readonly shutdownGraceMs: number;
  readonly requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Pause between garbage-stripe collection rounds; 0: this gateway does not collect. */
  readonly gcIntervalMs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Serve S3 over HTTPS with these PEM files (re-read on SIGHUP and when they change); absent: HTTP. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

export class GatewayProcessConfigError extends Error {
  static readonly errorName = 'GatewayProcessConfigError';
  constructor(message: string) {
    super(message);
    this.name = GatewayProcessConfigError.errorName;
  }
}

/** flag name -> environment variable. */
const settings = {
  listen: 'TESSERA_GATEWAY_LISTEN',
  'metrics-listen': 'TESSERA_GATEWAY_METRICS_LISTEN',
  metadata: 'TESSERA_METADATA',
  region: 'TESSERA_REGION',
  'virtual-host-domain': 'TESSERA_VHOST_DOMAINS',
  'access-key': 'TESSERA_ROOT_ACCESS_KEY',
  'secret-key': 'TESSERA_ROOT_SECRET_KEY',
  'data-shards': 'TESSERA_DATA_SHARDS',
  'parity-shards': 'TESSERA_PARITY_SHARDS',
  'block-size-bytes': 'TESSERA_BLOCK_SIZE_BYTES',
  'write-quorum-shards': 'TESSERA_WRITE_QUORUM_SHARDS',
  'inline-size-bytes-max': 'TESSERA_INLINE_SIZE_BYTES_MAX',
  'read-hedge-after-ms': 'TESSERA_READ_HEDGE_AFTER_MS',
  'read-buffer-bytes-max': 'TESSERA_READ_BUFFER_BYTES_MAX',
  'write-buffer-bytes-max': 'TESSERA_WRITE_BUFFER_BYTES_MAX',
  'write-straggler-grace-ms': 'TESSERA_WRITE_STRAGGLER_GRACE_MS',
  'shutdown-grace-ms': 'TESSERA_SHUTDOWN_GRACE_MS',
  'request-timeout-ms': 'TESSERA_GATEWAY_REQUEST_TIMEOUT_MS',
  'keep-alive-timeout-ms': 'TESSERA_GATEWAY_KEEP_ALIVE_TIMEOUT_MS',
  'gc-interval-ms': 'TESSERA_GC_INTERVAL_MS',
  'log-level': 'TESSERA_LOG_LEVEL',
  'tls-cert-file': 'TESSERA_GATEWAY_TLS_CERT_FILE',
  'tls-key-file': 'TESSERA_GATEWAY_TLS_KEY_FILE',
  config: 'TESSERA_GATEWAY_CONFIG',
} as const;
type SettingName = keyof typeof settings;

/**
 * Virtual-hosted-style base domain when none is configured. With an endpoint of
 * `http://localhost:9000`, clients that default to virtual-hosted style (the AWS SDK for
 * JavaScript v3 without `forcePathStyle`) send `Host: <bucket>.localhost:9000`, which reaches the
 * gateway where the system resolves *.localhost to loopback (systemd-resolved does). Read as
 * path-style, a GET of `/<key>` named a bucket and a ListObjectsV2 answered as ListBuckets. A
 * host name under localhost can only be meant that way.
 */
export const virtualHostDomainDefault = 'localhost';

export const gatewayUsage = `usage: node packages/gateway/dist/main.js --metadata host:port[,host:port...] [options]
${Object.entries(settings)
  .map(([flag, env]) => `  --${flag.padEnd(22)} (env ${env})`)
  .join('\n')}`;

function parseFlags(argv: readonly string[]): Map<SettingName, string> {
  const flags = new Map<SettingName, string>();
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    if (!arg.startsWith('--')) throw new GatewayProcessConfigError(`unexpected argument "${arg}"`);
    const [rawName, inlineValue] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!(rawName in settings)) throw new GatewayProcessConfigError(`unknown flag --${rawName}`);
    const value = inlineValue ?? argv[++index];
    if (value === undefined) throw new GatewayProcessConfigError(`--${rawName} needs a value`);
    const name = rawName as SettingName;
    // --virtual-host-domain may be repeated.
    flags.set(name, name === 'virtual-host-domain' && flags.has(name) ? `${flags.get(name)},${value}` : value);
  }
  return flags;
}

function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (file === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new GatewayProcessConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
}

function hostPort(value: string, flag: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (match === null || match[1] === '' || port > 65_535) throw new GatewayProcessConfigError(`--${flag} must be host:port, got "${value}"`);
  return { host: match[1]!, port };
}

export function resolveGatewayProcessConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): GatewayProcessConfig {
  const flags = parseFlags(argv);
  const file = readConfigFile(flags.get('config') ?? env[settings.config]);
  const get = (name: SettingName): string | undefined => {
    const fromFile = file[name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] ?? file[name];
    return flags.get(name) ?? env[settings[name]] ?? (fromFile === undefined ? undefined : String(fromFile));
  };
  const integer = (name: SettingName, fallback: number | undefined, min: number, max: number): number | undefined => {
    const text = get(name);
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new GatewayProcessConfigError(`--${name} must be an integer in [${min}, ${max}], got "${text}"`);
    return Number(text);
  };
  const metadata = (get('metadata') ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
  if (metadata.length === 0) throw new GatewayProcessConfigError('--metadata is required (comma-separated host:port of the metadata nodes)');
  metadata.forEach((address) => hostPort(address, 'metadata'));
  const accessKey = get('access-key');
  const secretKey = get('secret-key');
  if (accessKey === undefined || secretKey === undefined) throw new GatewayProcessConfigError('root keys are required: --access-key/--secret-key or TESSERA_ROOT_ACCESS_KEY/TESSERA_ROOT_SECRET_KEY');
  if (!/^[A-Za-z0-9]{3,128}$/.test(accessKey)) throw new GatewayProcessConfigError('the access key must be 3-128 letters and digits');
  // A short secret is brute-forceable offline from any captured signature.
  if (secretKey.length < 16) throw new GatewayProcessConfigError('the secret key must be at least 16 characters');
  const listen = hostPort(get('listen') ?? '0.0.0.0:9000', 'listen');
  const metricsListen = get('metrics-listen');
  const region = get('region') ?? 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/.test(region)) throw new GatewayProcessConfigError(`--region is not a region name: "${region}"`);
  const logLevel = get('log-level') ?? 'info';
  if (logLevel !== 'debug' && logLevel !== 'info' && logLevel !== 'warn' && logLevel !== 'error') throw new GatewayProcessConfigError('--log-level must be debug, info, warn or error');
  const tlsCertFile = get('tls-cert-file');
  const tlsKeyFile = get('tls-key-file');
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    throw new GatewayProcessConfigError('TLS needs both --tls-cert-file and --tls-key-file (PEM), or neither for plain HTTP');
  }
  const overrides: Partial<Record<keyof DataPathOptions, number>> = {};
  const set = (key: keyof DataPathOptions, value: number | undefined): void => {
    if (value !== undefined) overrides[key] = value;
  };
  set('dataShardCount', integer('data-shards', undefined, 1, 31));
  set('parityShardCount', integer('parity-shards', undefined, 1, 31));
  set('blockSizeBytes', integer('block-size-bytes', undefined, 4096, 64 * 1024 * 1024));
  set('writeQuorumShardCount', integer('write-quorum-shards', undefined, 1, 32));
  set('inlineSizeBytesMax', integer('inline-size-bytes-max', undefined, 0, 1024 * 1024));
  set('readHedgeAfterMs', integer('read-hedge-after-ms', undefined, 1, 60_000));
  set('readBufferBytesMax', integer('read-buffer-bytes-max', undefined, 1024 * 1024, 64 * 1024 * 1024 * 1024));
  set('writeBufferBytesMax', integer('write-buffer-bytes-max', undefined, 1024 * 1024, 64 * 1024 * 1024 * 1024));
  set('writeStragglerGraceMs', integer('write-straggler-grace-ms', undefined, 1, 600_000));
  let dataPath: DataPathOptions;
  try {
    dataPath = dataPathOptions(overrides);
  } catch (error) {
    throw new GatewayProcessConfigError(`invalid data path settings: ${(error as Error).message}`);
  }
  return {
    listenHost: listen.host,
    listenPort: listen.port,
    metricsListen: metricsListen === undefined ? undefined : hostPort(metricsListen, 'metrics-listen'),
    metadataAddresses: metadata,
    region,
    virtualHostBaseDomains: (get('virtual-host-domain') ?? virtualHostDomainDefault).split(',').map((d) => d.trim().toLowerCase()).filter((d) => d !== ''),
    rootAccessKeyId: accessKey,
    rootSecretAccessKey: secretKey,
    dataPath,
    shutdownGraceMs: integer('shutdown-grace-ms', 10_000, 0, 600_000)!,
    requestTimeoutMs: integer('request-timeout-ms', 300_000, 1_000, 24 * 3_600_000)!,
    keepAliveTimeoutMs: integer('keep-alive-timeout-ms', keepAliveTimeoutMsDefault, 1_000, 3_600_000)!,
    gcIntervalMs: integer('gc-interval-ms', 30_000, 0, 24 * 3_600_000)!,
    logLevel,
    ...(tlsCertFile === undefined || tlsKeyFile === undefined ? {} : { tls: { certFile: tlsCertFile, keyFile: tlsKeyFile } }),
  };
}
