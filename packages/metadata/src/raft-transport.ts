import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@tessera/common';
import { loadProto } from '@tessera/proto';
import type { ProtoGrpcType } from '@tessera/proto/generated/raft';
import type { RaftBatch, RaftBatch__Output } from '@tessera/proto/generated/tessera/raft/v1/RaftBatch';
import type { RaftTransportClient } from '@tessera/proto/generated/tessera/raft/v1/RaftTransport';
import type { RaftTransportHandlers } from '@tessera/proto/generated/tessera/raft/v1/RaftTransport';
import type { SnapshotChunk, SnapshotChunk__Output } from '@tessera/proto/generated/tessera/raft/v1/SnapshotChunk';
import { decodeRaftMessage, encodeRaftMessage } from '@tessera/raft';
import { reconnectChannelOptions } from '@tessera/rpc';
import type { RaftMessage, SnapshotMessage } from '@tessera/raft';
import { encodeSnapshotMeta, snapshotMetadataKey } from './state-store';
import type { MetadataMetrics } from './metrics';
import type { RaftHost, RaftTransport } from './raft-host';

export function raftProto(): ProtoGrpcType {
  return loadProto('raft.proto') as unknown as ProtoGrpcType;
}

/**
 * Bytes a peer's stream may have buffered before further messages to it are dropped. Raft
 * tolerates loss (it retransmits), while an unbounded buffer to a dead peer would not.
 */
const peerBufferedBytesMax = 64 << 20;

interface Peer {
  readonly client: RaftTransportClient;
  stream: grpc.ClientWritableStream<RaftBatch> | undefined;
  snapshotInFlight: boolean;
}

/**
 * gRPC Raft transport. Each peer gets one long-lived client stream of batches (one batch per
 * Ready per peer), reopened after any failure. Snapshot messages go separately: a client stream
 * of chunks read from the host's LevelDB snapshot.
 */
export class GrpcRaftTransport implements RaftTransport {
  private readonly peers = new Map<string, Peer>();

  private readonly addresses = new Map<string, string>();

  constructor(
    private readonly host: RaftHost,
    private readonly logger: Logger,
    private readonly metrics: MetadataMetrics | undefined,
  ) {}

  setPeer(nodeId: string, address: string): void {
    if (nodeId === this.host.nodeId || this.addresses.get(nodeId) === address) return;
    const previous = this.peers.get(nodeId);
    if (previous !== undefined) {
      previous.stream?.end();
      previous.client.close();
    }
    const Client = raftProto().tessera.raft.v1.RaftTransport;
    this.addresses.set(nodeId, address);
    // A peer that restarts after a long outage is reachable again within 2 s, not after grpc-js's
    // default reconnect backoff of up to 120 s (which would keep it out of the group that long).
    this.peers.set(nodeId, { client: new Client(address, grpc.credentials.createInsecure(), reconnectChannelOptions), stream: undefined, snapshotInFlight: false });
  }

  send(messages: readonly RaftMessage[]): void {
    const byPeer = new Map<string, Buffer[]>();
    for (const message of messages) {
      if (message.kind === 'snapshot') {
        this.sendSnapshot(message);
        continue;
      }
      const list = byPeer.get(message.to) ?? [];
      list.push(Buffer.from(encodeRaftMessage(message)));
      byPeer.set(message.to, list);
    }
    for (const [to, encoded] of byPeer) this.sendBatch(to, encoded);
  }

  private sendBatch(to: string, encoded: Buffer[]): void {
    const peer = this.peers.get(to);
    if (peer === undefined) return;
    let stream = peer.stream;
    if (stream === undefined) {
      const opened = peer.client.send((err) => {
        if (peer.stream === opened) peer.stream = undefined;
        if (err !== null && err !== undefined && err.code !== grpc.status.CANCELLED) this.logger.debug('raft stream closed', { to, err: err.message });
      });
      opened.on('error', () => undefined);
      peer.stream = opened;
      stream = opened;
    }
    if (stream.writableLength > peerBufferedBytesMax) return;
    stream.write({ fromNodeId: this.host.nodeId, toNodeId: to, messages: encoded });
  }

  private sendSnapshot(message: SnapshotMessage): void {
    const peer = this.peers.get(message.to);
    if (peer === undefined || peer.snapshotInFlight) return;
    peer.snapshotInFlight = true;
    void this.streamSnapshot(peer, message).finally(() => {
      peer.snapshotInFlight = false;
    });
  }

  private async streamSnapshot(peer: Peer, message: SnapshotMessage): Promise<void> {
    const index = message.snapshot.metadata.index;
    if (!this.host.hasExport(index)) return;
    let failed: Error | undefined;
    const finished = new Promise<void>((resolve) => {
      const call = peer.client.installSnapshot({ deadline: Date.now() + 10 * 60_000 }, (err) => {
        if (err !== null && err !== undefined) failed = err;
        resolve();
      });
      void (async () => {
        try {
          call.write({ raftMessage: Buffer.from(encodeRaftMessage(message)), keys: [], values: [], done: false } satisfies SnapshotChunk);
          for await (const chunk of this.host.exportSnapshot(index)) {
            this.metrics?.snapshotSentBytes.inc(chunk.keys.reduce((sum, k, i) => sum + k.length + (chunk.values[i]?.length ?? 0), 0));
            if (!call.write({ keys: chunk.keys, values: chunk.values, done: false })) await new Promise((r) => call.once('drain', r));
          }
          call.write({ done: true });
          call.end();
        } catch (err) {
          call.cancel();
          failed = err as Error;
        }
      })();
    });
    await finished;
    if (failed !== undefined) this.logger.warn('snapshot transfer failed', { to: message.to, index, err: failed.message });
    else this.logger.info('snapshot sent', { to: message.to, index });
  }

  async close(): Promise<void> {
    for (const peer of this.peers.values()) {
      peer.stream?.end();
      peer.client.close();
    }
  }
}

/** Server side of the Raft transport: hands messages and staged snapshots to the host. */
export function raftTransportHandlers(host: RaftHost, logger: Logger, metrics: MetadataMetrics | undefined): RaftTransportHandlers {
  return {
    Send(call, callback) {
      call.on('data', (batch: RaftBatch__Output) => {
        if (batch.toNodeId !== host.nodeId) return;
        for (const bytes of batch.messages) {
          try {
            host.receive(decodeRaftMessage(bytes));
          } catch (err) {
            logger.warn('dropping undecodable raft message', { from: batch.fromNodeId, err });
          }
        }
      });
      call.on('end', () => callback(null, {}));
      call.on('error', () => undefined);
    },
    InstallSnapshot(call, callback) {
      void receiveSnapshot(host, call, metrics).then(
        (count) => callback(null, { installedKeyCount: count }),
        (err: unknown) => {
          logger.warn('snapshot receive failed', { err });
          callback({ code: grpc.status.ABORTED, details: err instanceof Error ? err.message : String(err) });
        },
      );
    },
  };
}

async function receiveSnapshot(
  host: RaftHost,
  call: grpc.ServerReadableStream<SnapshotChunk__Output, unknown>,
  metrics: MetadataMetrics | undefined,
): Promise<number> {
  let message: SnapshotMessage | undefined;
  let staging: Awaited<ReturnType<RaftHost['stateStoreForTransfers']['createStagingDb']>> | undefined;
  let count = 0;
  let complete = false;
  try {
    for await (const chunk of call as AsyncIterable<SnapshotChunk__Output>) {
      if (message === undefined) {
        const decoded = decodeRaftMessage(chunk.raftMessage);
        if (decoded.kind !== 'snapshot' || decoded.to !== host.nodeId) throw new Error('first chunk must carry a snapshot message for this node');
        message = decoded;
        staging = await host.stateStoreForTransfers.createStagingDb(decoded.snapshot.metadata.index);
      }
      if (staging === undefined) throw new Error('no staging database');
      if (chunk.keys.length !== chunk.values.length) throw new Error('chunk keys and values differ in count');
      if (chunk.keys.length > 0) {
        await staging.db.batch(chunk.keys.map((key, i) => ({ type: 'put' as const, key, value: chunk.values[i] ?? Buffer.alloc(0) })));
        count += chunk.keys.length;
        metrics?.snapshotReceivedBytes.inc(chunk.keys.reduce((sum, k, i) => sum + k.length + (chunk.values[i]?.length ?? 0), 0));
      }
      if (chunk.done) complete = true;
    }
    if (message === undefined || staging === undefined || !complete) throw new Error('snapshot stream ended early');
    await staging.db.put(snapshotMetadataKey, encodeSnapshotMeta(message.snapshot.metadata), { sync: true });
    await staging.db.close();
    await host.receiveSnapshot(message, staging.dirName);
    return count;
  } catch (err) {
    if (staging !== undefined) {
      await staging.db.close().catch(() => undefined);
      await host.stateStoreForTransfers.discardStaging(staging.dirName);
    }
    throw err;
  }
}
