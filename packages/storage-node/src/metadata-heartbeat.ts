import type { Logger, Startable } from '@tessera/common';
import { MetadataClient, RpcStatusError } from '@tessera/rpc';
import type { StoreUsage } from './fs-shard-store';

export interface MetadataHeartbeatOptions {
  readonly nodeId: string;
  readonly zone: string;
  /** host:port at which gateways and healers reach this node's gRPC service. */
  readonly advertiseAddress: string;
  /** Metadata service addresses (any of them; the client follows the leader). */
  readonly metadataAddresses: readonly string[];
  /** How often to report liveness and free space; well below the metadata's suspect timeout. */
  readonly heartbeatIntervalMs: number;
}

export interface MetadataHeartbeatComponents {
  readonly usage: () => Promise<StoreUsage>;
  readonly logger: Logger;
}

/**
 * Keeps this storage node known to the metadata service: registers it (id, AZ, address,
 * capacity) at start and then heartbeats with its free space every `heartbeatIntervalMs`. The
 * metadata leader marks a node suspect, then down, when heartbeats stop (see the metadata
 * README for the timeouts), and placement only uses nodes that are up.
 *
 * The storage node stays ignorant of Raft and S3: this is only a client of the metadata API.
 * Registration is an upsert, so re-registering after a failed heartbeat (for instance after the
 * metadata service lost its record of this node) is always safe.
 */
export class MetadataHeartbeat implements Startable {
  private readonly client: MetadataClient;
  private timer: NodeJS.Timeout | undefined;
  private registered = false;
  private beating = false;
  private lastErrorMessage = '';

  constructor(
    private readonly options: MetadataHeartbeatOptions,
    private readonly components: MetadataHeartbeatComponents,
  ) {
    // Short per-call deadlines: a heartbeat that cannot be delivered quickly is simply retried
    // at the next interval rather than piling up.
    this.client = new MetadataClient({
      addresses: options.metadataAddresses,
      callTimeoutMs: Math.max(1_000, options.heartbeatIntervalMs),
      attemptCountMax: 3,
    });
  }

  /**
   * Starts beating without waiting for the first answer: the metadata service may come up after
   * this node (a cluster starts in any order), and unanswered beats are simply retried.
   */
  async start(): Promise<void> {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.client.close();
  }

  /** True once the metadata service has acknowledged this node at least once. */
  get isRegistered(): boolean {
    return this.registered;
  }

  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const usage = await this.components.usage();
      if (!this.registered) {
        await this.client.registerNode({
          nodeId: this.options.nodeId,
          az: this.options.zone,
          address: this.options.advertiseAddress,
          capacityBytes: usage.capacityBytes,
          freeBytes: usage.freeBytes,
          storedBytes: usage.usedBytes,
        });
        this.registered = true;
        this.components.logger.info('registered with the metadata service', { address: this.options.advertiseAddress, zone: this.options.zone });
      } else {
        await this.client.heartbeat({ nodeId: this.options.nodeId, capacityBytes: usage.capacityBytes, freeBytes: usage.freeBytes, storedBytes: usage.usedBytes });
      }
      this.lastErrorMessage = '';
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Transport failures mean the metadata service is away; anything else (e.g. an unknown
      // node after the catalogue was rebuilt) is answered by registering again.
      if (!(err instanceof RpcStatusError)) this.registered = false;
      if (message !== this.lastErrorMessage) this.components.logger.warn('metadata heartbeat failed', { error: message });
      this.lastErrorMessage = message;
    } finally {
      this.beating = false;
    }
  }
}
