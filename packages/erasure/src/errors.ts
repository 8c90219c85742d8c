/**
 * Operating errors of the codec: the caller passed shards that cannot be coded (too few present,
 * wrong count, unequal sizes) or asked for an impossible shape. They are typed so callers can
 * react (`instanceof TooFewShardsError` means "fetch more shards or give up"); bugs inside the
 * codec are assertions instead.
 */

/** Base class of every error the erasure package throws on purpose. */
export abstract class ErasureError extends Error {}

/** k and m out of range: k >= 1, m >= 1, k + m <= 32. */
export class InvalidCodecShapeError extends ErasureError {
  static readonly errorName = 'InvalidCodecShapeError';
  constructor(readonly dataShardCount: number, readonly parityShardCount: number, reason: string) {
    super(`invalid erasure code ${dataShardCount}+${parityShardCount}: ${reason}`);
    this.name = InvalidCodecShapeError.errorName;
  }
}

/** The shard array has the wrong length for this codec. */
export class ShardCountMismatchError extends ErasureError {
  static readonly errorName = 'ShardCountMismatchError';
  constructor(readonly expectedShardCount: number, readonly actualShardCount: number) {
    super(`expected ${expectedShardCount} shards, got ${actualShardCount}`);
    this.name = ShardCountMismatchError.errorName;
  }
}

/** Shards of one stripe must all have the same size. */
export class ShardSizeMismatchError extends ErasureError {
  static readonly errorName = 'ShardSizeMismatchError';
  constructor(readonly shardIndex: number, readonly expectedShardSizeBytes: number, readonly actualShardSizeBytes: number) {
    super(`shard ${shardIndex} has ${actualShardSizeBytes} bytes, expected ${expectedShardSizeBytes}`);
    this.name = ShardSizeMismatchError.errorName;
  }
}

/** Fewer than k shards present: the stripe cannot be reconstructed. */
export class TooFewShardsError extends ErasureError {
  static readonly errorName = 'TooFewShardsError';
  constructor(readonly presentShardCount: number, readonly requiredShardCount: number) {
    super(`only ${presentShardCount} shards present, at least ${requiredShardCount} needed to reconstruct`);
    this.name = TooFewShardsError.errorName;
  }
}

/** An S3 byte range that lies outside the object (S3 answers 416 InvalidRange). */
export class RangeNotSatisfiableError extends ErasureError {
  static readonly errorName = 'RangeNotSatisfiableError';
  constructor(readonly startByte: number, readonly endByteInclusive: number, readonly objectSizeBytes: number) {
    super(`range ${startByte}-${endByteInclusive} is not satisfiable for an object of ${objectSizeBytes} bytes`);
    this.name = RangeNotSatisfiableError.errorName;
  }
}
