import { StorageNodeClient, storageChannelOptions } from '@tessera/rpc';
import type { StorageNode__Output } from '@tessera/proto/generated/tessera/metadata/v1/StorageNode';

/** One StorageNodeClient per node address; a node that moved gets a fresh client. */
export class StorageNodePool {
  private readonly clients = new Map<string, { address: string; client: StorageNodeClient }>();

  constructor(private readonly unaryTimeoutMs: number) {}

  clientFor(node: Pick<StorageNode__Output, 'nodeId' | 'address'>): StorageNodeClient {
    const existing = this.clients.get(node.nodeId);
    if (existing !== undefined && existing.address === node.address) return existing.client;
    existing?.client.close();
    const client = new StorageNodeClient({
      address: node.address,
      unaryTimeoutMs: this.unaryTimeoutMs,
      // grpc-js backs reconnects off up to 120 s by default: a node restarted after a crash would
      // look unreachable to the healer for minutes after it is back. Retry within 2 s instead;
      // keepalive pings notice a frozen node within seconds.
      channelOptions: storageChannelOptions,
    });
    this.clients.set(node.nodeId, { address: node.address, client });
    return client;
  }

  close(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }
}
