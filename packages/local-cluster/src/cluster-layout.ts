/**
 * The port and directory plan of a local cluster, as a pure function of its options: which
 * processes exist, where each listens, where it keeps its data and its log. Keeping it pure lets
 * the CLI print the plan, the port check name the option that moves a port, and tests check the
 * plan without starting anything.
 *
 * Default plan (host 127.0.0.1, zones az-a az-b az-c, 3 storage nodes per zone):
 *
 * | process | gRPC / S3 | metrics + health |
 * |---|---|---|
 * | gateway | 9000 (S3) | 9100 |
 * | meta-1..3 (one per zone) | 7001-7003 | 9101-9103 |
 * | storage-az-a-1 .. storage-az-c-3 | 7101-7109 | 9111-9119 |
 * | healer (its admin port is its metrics port) | — | 9120 |
 */
import * as path from 'node:path';
import { ClusterLayoutError } from './errors';

export type ProcessRole = 'metadata' | 'storage' | 'gateway' | 'healer';

/** Ports and counts that decide the plan. */
export interface ClusterLayoutOptions {
  readonly dataDir: string;
  /** Interface every process binds (loopback by default: nothing is exposed). */
  readonly host: string;
  /** One metadata node per zone, `storageNodesPerZoneCount` storage nodes per zone. */
  readonly zones: readonly string[];
  readonly storageNodesPerZoneCount: number;
  readonly gatewayPort: number;
  /** meta-i listens on metadataPortBase + i - 1. */
  readonly metadataPortBase: number;
  /** The j-th storage node (zone-major order) listens on storagePortBase + j. */
  readonly storagePortBase: number;
  /** Gateway metrics on the base, metadata on base+1.., storage on base+11.., then the healer. */
  readonly metricsPortBase: number;
}

export const defaultClusterLayoutOptions = {
  host: '127.0.0.1',
  zones: ['az-a', 'az-b', 'az-c'],
  storageNodesPerZoneCount: 3,
  gatewayPort: 9000,
  metadataPortBase: 7001,
  storagePortBase: 7101,
  metricsPortBase: 9100,
} as const;

/** Metadata metrics ports sit in [base+1, base+10]; storage metrics start after them. */
const metadataMetricsOffset = 1;
const storageMetricsOffset = 11;
const metadataNodeCountMax = storageMetricsOffset - metadataMetricsOffset;

export interface PlannedProcess {
  /** Unique name: node id, log file stem, data sub-directory. */
  readonly name: string;
  readonly role: ProcessRole;
  readonly zone: string | undefined;
  /** gRPC address (metadata, storage) or S3 address (gateway). */
  readonly listenAddress: string;
  /** Serves /metrics, /health/live and /health/ready. */
  readonly metricsAddress: string;
  /** Undefined for the gateway, which keeps no local state. */
  readonly dataDir: string | undefined;
  readonly logPath: string;
  /** The option that moves `listenAddress`, named in "port in use" messages. */
  readonly listenOptionHint: string;
}

export interface ClusterLayout {
  readonly dataDir: string;
  readonly metadata: readonly PlannedProcess[];
  readonly storage: readonly PlannedProcess[];
  readonly gateway: PlannedProcess;
  /** The healing service (node-loss rebuild, scrubbing, orphan collection); no data of its own. */
  readonly healer: PlannedProcess;
  /** host:port of every metadata node, the `--metadata` list of clients. */
  readonly metadataAddresses: readonly string[];
  /** http://host:port of the S3 endpoint. */
  readonly s3Endpoint: string;
  readonly keysPath: string;
  readonly lockPath: string;
  readonly logDir: string;
}

export function planCluster(options: ClusterLayoutOptions): ClusterLayout {
  validateLayoutOptions(options);
  const dataDir = path.resolve(options.dataDir);
  const logDir = path.join(dataDir, 'logs');
  const at = (port: number): string => `${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  const metadata = options.zones.map((zone, i): PlannedProcess => {
    const name = `meta-${i + 1}`;
    return {
      name, role: 'metadata', zone,
      listenAddress: at(options.metadataPortBase + i),
      metricsAddress: at(options.metricsPortBase + metadataMetricsOffset + i),
      dataDir: path.join(dataDir, 'metadata', name),
      logPath: path.join(logDir, `${name}.log`),
      listenOptionHint: '--metadata-port-base',
    };
  });
  const storage = options.zones.flatMap((zone, z) =>
    Array.from({ length: options.storageNodesPerZoneCount }, (_unused, k): PlannedProcess => {
      const j = z * options.storageNodesPerZoneCount + k;
      const name = `storage-${zone}-${k + 1}`;
      return {
        name, role: 'storage', zone,
        listenAddress: at(options.storagePortBase + j),
        metricsAddress: at(options.metricsPortBase + storageMetricsOffset + j),
        dataDir: path.join(dataDir, 'storage', name),
        logPath: path.join(logDir, `${name}.log`),
        listenOptionHint: '--storage-port-base',
      };
    }),
  );
  const gateway: PlannedProcess = {
    name: 'gateway', role: 'gateway', zone: undefined,
    listenAddress: at(options.gatewayPort),
    metricsAddress: at(options.metricsPortBase),
    dataDir: undefined,
    logPath: path.join(logDir, 'gateway.log'),
    listenOptionHint: '--gateway-port',
  };
  const healer: PlannedProcess = {
    name: 'healer', role: 'healer', zone: undefined,
    // The healer serves no API of its own: /metrics, /health/* and /admin/* share one port.
    listenAddress: at(options.metricsPortBase + storageMetricsOffset + storage.length),
    metricsAddress: at(options.metricsPortBase + storageMetricsOffset + storage.length),
    dataDir: undefined,
    logPath: path.join(logDir, 'healer.log'),
    listenOptionHint: '--metrics-port-base',
  };
  const layout: ClusterLayout = {
    dataDir, metadata, storage, gateway, healer,
    metadataAddresses: metadata.map((m) => m.listenAddress),
    s3Endpoint: `http://${gateway.listenAddress}`,
    keysPath: path.join(dataDir, 'root-keys.json'),
    lockPath: path.join(dataDir, 'launcher.lock'),
    logDir,
  };
  checkNoPortCollision(layout);
  return layout;
}

/** Every planned process, in start order (metadata, storage, gateway, healer). */
export function allProcesses(layout: ClusterLayout): readonly PlannedProcess[] {
  return [...layout.metadata, ...layout.storage, layout.gateway, layout.healer];
}

function validateLayoutOptions(options: ClusterLayoutOptions): void {
  if (options.zones.length === 0) throw new ClusterLayoutError('at least one zone is needed');
  if (new Set(options.zones).size !== options.zones.length) throw new ClusterLayoutError(`zones must be distinct: ${options.zones.join(',')}`);
  for (const zone of options.zones) {
    if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(zone)) throw new ClusterLayoutError(`zone ${JSON.stringify(zone)}: use 1-32 of [a-z0-9-]`);
  }
  // Metadata metrics ports must stay below the storage metrics range.
  if (options.zones.length > metadataNodeCountMax) throw new ClusterLayoutError(`at most ${metadataNodeCountMax} zones (one metadata node each)`);
  if (!Number.isInteger(options.storageNodesPerZoneCount) || options.storageNodesPerZoneCount < 1 || options.storageNodesPerZoneCount > 64) {
    throw new ClusterLayoutError(`storage nodes per zone must be 1..64, got ${options.storageNodesPerZoneCount}`);
  }
  const ports: Array<[string, number]> = [
    ['--gateway-port', options.gatewayPort], ['--metadata-port-base', options.metadataPortBase],
    ['--storage-port-base', options.storagePortBase], ['--metrics-port-base', options.metricsPortBase],
  ];
  for (const [option, port] of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new ClusterLayoutError(`${option} must be a port 1..65535, got ${port}`);
  }
}

function checkNoPortCollision(layout: ClusterLayout): void {
  const owners = new Map<string, string>();
  for (const p of allProcesses(layout)) {
    for (const address of new Set([p.listenAddress, p.metricsAddress])) {
      const port = Number(address.slice(address.lastIndexOf(':') + 1));
      if (port > 65_535) throw new ClusterLayoutError(`${p.name} would need port ${port}: lower the port bases`);
      const owner = owners.get(address);
      if (owner !== undefined) throw new ClusterLayoutError(`${p.name} and ${owner} would both use ${address}: move one of the port bases apart`);
      owners.set(address, p.name);
    }
  }
}
