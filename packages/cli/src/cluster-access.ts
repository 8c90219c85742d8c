/**
 * How operator commands reach a cluster: metadata addresses and the S3 endpoint from explicit
 * settings or else the port plan (so a changed plan in tessera.json is found without repeating
 * it), and credentials from the environment or the data directory's key file.
 */
import { planCluster, readRootKeysFile } from '@tessera/local-cluster';
import type { ClusterLayoutOptions, RootCredentials } from '@tessera/local-cluster';
import { MetadataClient } from '@tessera/rpc';
import type { CliConfig } from './config';
import { CliError } from './errors';

export function layoutOptionsOf(config: CliConfig): ClusterLayoutOptions {
  return {
    dataDir: config.dataDir, host: config.host, zones: config.zones, storageNodesPerZoneCount: config.storageNodesPerZoneCount,
    gatewayPort: config.gatewayPort, metadataPortBase: config.metadataPortBase, storagePortBase: config.storagePortBase,
    metricsPortBase: config.metricsPortBase,
  };
}

/** The metadata client of one operator command: a 5 s call timeout, a few attempts per node. */
export function operatorMetadataClient(addresses: readonly string[]): MetadataClient {
  return new MetadataClient({ addresses, callTimeoutMs: 5_000, attemptCountMax: Math.max(3, addresses.length * 2) });
}

/**
 * The storage nodes as the metadata leader lists them (`leaderAddress`, else the leader the first
 * answering node names): its answer overlays the latest heartbeats, while a follower's catalogue
 * may be 10 s behind in heartbeat time, free space and shard bytes (metadata README,
 * "Storage-node liveness"). Falls back to any node when the leader cannot be found.
 */
export async function listNodesFromLeader(
  client: MetadataClient,
  addresses: readonly string[],
  leaderAddress?: string,
  callTimeoutMs = 5_000,
): ReturnType<MetadataClient['listNodes']> {
  const leader = leaderAddress ?? ((await client.getClusterStatus().catch(() => undefined))?.leaderAddress || undefined);
  if (leader === undefined) return client.listNodes();
  const leaderFirst = new MetadataClient({ addresses: [leader, ...addresses.filter((a) => a !== leader)], callTimeoutMs, attemptCountMax: Math.max(3, addresses.length * 2), backoffMsMax: 500 });
  try {
    return await leaderFirst.listNodes();
  } finally {
    leaderFirst.close();
  }
}

export function metadataAddressesOf(config: CliConfig): readonly string[] {
  return config.metadataAddresses ?? planCluster(layoutOptionsOf(config)).metadataAddresses;
}

/** The healer's admin address: `--healer`, else the port plan's healer. */
export function healerAddressOf(explicit: string | undefined, config: CliConfig): string {
  return explicit ?? planCluster(layoutOptionsOf(config)).healer.metricsAddress;
}

export function endpointOf(config: CliConfig): string {
  return config.endpoint ?? planCluster(layoutOptionsOf(config)).s3Endpoint;
}

/** TESSERA_ROOT_* env, then AWS_* env, then `<data-dir>/root-keys.json`. */
export function clientCredentials(config: CliConfig, env: Readonly<Record<string, string | undefined>>): RootCredentials {
  const pairs: Array<[string | undefined, string | undefined]> = [
    [env['TESSERA_ROOT_ACCESS_KEY'], env['TESSERA_ROOT_SECRET_KEY']],
    [env['AWS_ACCESS_KEY_ID'], env['AWS_SECRET_ACCESS_KEY']],
  ];
  for (const [accessKeyId, secretAccessKey] of pairs) {
    if (accessKeyId !== undefined && accessKeyId !== '' && secretAccessKey !== undefined && secretAccessKey !== '') return { accessKeyId, secretAccessKey };
  }
  const keysPath = planCluster(layoutOptionsOf(config)).keysPath;
  const fromFile = readRootKeysFile(keysPath);
  if (fromFile !== undefined) return fromFile;
  throw new CliError(`no credentials: set TESSERA_ROOT_ACCESS_KEY and TESSERA_ROOT_SECRET_KEY, or --data-dir to a cluster's data directory (no ${keysPath})`);
}
