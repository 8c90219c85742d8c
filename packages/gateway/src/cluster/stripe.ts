/**
 * The stripe as the data path uses it: its placement, chosen by the gateway that wrote it
 * (shard i of every block lives on shardNodeIds[i]), and the shard id each node stores it under.
 */
import { RpcStatusError } from '@tessera/rpc';
import type { StorageShardId } from '@tessera/rpc';

export interface Stripe {
  /** Unique per written stripe; also the shard files' objectVersionId on the storage nodes. */
  readonly stripeId: string;
  readonly dataShardCount: number;
  readonly parityShardCount: number;
  readonly blockSizeBytes: number;
  readonly shardNodeIds: readonly string[];
}

export function shardIdOf(stripe: Stripe, shardIndex: number): StorageShardId {
  return { objectVersionId: stripe.stripeId, shardIndex };
}

export function shardCountOf(stripe: Stripe): number {
  return stripe.dataShardCount + stripe.parityShardCount;
}

/** Too few storage nodes answered for a read or write: S3 503 ServiceUnavailable. */
export class QuorumUnavailableError extends Error {
  static readonly errorName = 'QuorumUnavailableError';
  constructor(
    readonly kind: 'read' | 'write',
    message: string,
    options?: { cause?: unknown; storageFull?: boolean },
  ) {
    super(message, options);
    this.name = QuorumUnavailableError.errorName;
    this.storageFull = options?.storageFull ?? false;
  }

  /** A write that failed because so many of its nodes were out of space (not unreachable). */
  readonly storageFull: boolean;
}

// gRPC status codes (grpc-js `status` enum) that mean the node itself could not be reached.
const grpcUnavailable = 14;
const grpcDeadlineExceeded = 4;

/** The call failed because the node could not be reached or did not answer in time. */
export function isTransportFailure(error: unknown): boolean {
  return error instanceof RpcStatusError && (error.code === grpcUnavailable || error.code === grpcDeadlineExceeded);
}
