import * as grpc from '@grpc/grpc-js';
import { TesseraError, registerRpcError } from './errors';

/**
 * The storage node's operating errors. The node throws them, `toGrpcError` carries each one
 * as a gRPC status plus its name and fields, and the StorageNodeClient rebuilds the same class
 * with `fromGrpcError`, so the gateway and healers use `instanceof`:
 *
 * | class                        | gRPC status         | meaning for the caller                  |
 * |------------------------------|---------------------|-----------------------------------------|
 * | ShardNotFoundError           | NOT_FOUND           | read another shard                      |
 * | ShardChecksumMismatchError   | DATA_LOSS           | block `blockIndex` is bad (upload/disk) |
 * | InvalidShardRequestError     | INVALID_ARGUMENT    | a bug in the caller; do not retry       |
 * | StorageFullError             | RESOURCE_EXHAUSTED  | pick another node                       |
 * | StorageNodeBusyError         | RESOURCE_EXHAUSTED  | too many streams; retry later/elsewhere |
 * | StorageIoError               | UNAVAILABLE         | disk/permission trouble on that node    |
 * | ShardStreamIdleError         | DEADLINE_EXCEEDED   | the writer sent nothing for too long    |
 */
export class ShardNotFoundError extends TesseraError {
  static readonly errorName = 'ShardNotFoundError';
  readonly grpcCode = grpc.status.NOT_FOUND;
  constructor(readonly shardKey: string) {
    super(`shard ${shardKey} not found`);
    this.name = ShardNotFoundError.errorName;
  }
  override fields(): Record<string, string> {
    return { shardKey: this.shardKey };
  }
}

/** Where the bad block was found: in an upload (nothing kept) or on the node's disk. */
export type ChecksumMismatchSource = 'upload' | 'disk';

/**
 * A block whose bytes do not match its checksum. `blockIndex` is the index of the bad block
 * in the shard (-1 when the shard file's header itself is damaged).
 */
export class ShardChecksumMismatchError extends TesseraError {
  static readonly errorName = 'ShardChecksumMismatchError';
  readonly grpcCode = grpc.status.DATA_LOSS;
  constructor(
    readonly shardKey: string,
    readonly blockIndex: number,
    readonly source: ChecksumMismatchSource,
    detail = '',
  ) {
    super(
      `shard ${shardKey}: ${blockIndex < 0 ? 'file header' : `block ${blockIndex}`} fails its checksum ` +
        `(${source === 'upload' ? 'upload rejected, nothing kept' : 'on-disk corruption'})${detail === '' ? '' : `: ${detail}`}`,
    );
    this.name = ShardChecksumMismatchError.errorName;
  }
  override fields(): Record<string, string> {
    return { shardKey: this.shardKey, blockIndex: String(this.blockIndex), source: this.source };
  }
}

/** A malformed request: bad shard id, missing field, bad range, protocol order, size limit. */
export class InvalidShardRequestError extends TesseraError {
  static readonly errorName = 'InvalidShardRequestError';
  readonly grpcCode = grpc.status.INVALID_ARGUMENT;
  constructor(message: string) {
    super(message);
    this.name = InvalidShardRequestError.errorName;
  }
}

/** No room: the configured capacity limit would be exceeded, or the disk said ENOSPC. */
export class StorageFullError extends TesseraError {
  static readonly errorName = 'StorageFullError';
  readonly grpcCode = grpc.status.RESOURCE_EXHAUSTED;
  constructor(message: string) {
    super(message);
    this.name = StorageFullError.errorName;
  }
}

/** The node already serves its maximum number of concurrent streams. */
export class StorageNodeBusyError extends TesseraError {
  static readonly errorName = 'StorageNodeBusyError';
  readonly grpcCode = grpc.status.RESOURCE_EXHAUSTED;
  constructor(readonly streamCountMax: number) {
    super(`storage node busy: ${streamCountMax} concurrent streams already open`);
    this.name = StorageNodeBusyError.errorName;
  }
  override fields(): Record<string, string> {
    return { streamCountMax: String(this.streamCountMax) };
  }
}

/** The file system failed (EIO, EACCES, EROFS…); `errno` is the Node error code. */
export class StorageIoError extends TesseraError {
  static readonly errorName = 'StorageIoError';
  readonly grpcCode = grpc.status.UNAVAILABLE;
  constructor(message: string, readonly errno: string) {
    super(message);
    this.name = StorageIoError.errorName;
  }
  override fields(): Record<string, string> {
    return { errno: this.errno };
  }
}

/** A write stream that sent no message for the node's idle limit; the write is dropped. */
export class ShardStreamIdleError extends TesseraError {
  static readonly errorName = 'ShardStreamIdleError';
  readonly grpcCode = grpc.status.DEADLINE_EXCEEDED;
  constructor(readonly idleTimeoutMs: number) {
    super(`write stream idle for ${idleTimeoutMs} ms; write dropped`);
    this.name = ShardStreamIdleError.errorName;
  }
  override fields(): Record<string, string> {
    return { idleTimeoutMs: String(this.idleTimeoutMs) };
  }
}

registerRpcError(ShardNotFoundError.errorName, (_m, f) => new ShardNotFoundError(f['shardKey'] ?? '?'));
registerRpcError(ShardChecksumMismatchError.errorName, (message, f) => {
  const source: ChecksumMismatchSource = f['source'] === 'upload' ? 'upload' : 'disk';
  const err = new ShardChecksumMismatchError(f['shardKey'] ?? '?', Number(f['blockIndex'] ?? -1), source);
  err.message = message;
  return err;
});
registerRpcError(InvalidShardRequestError.errorName, (message) => new InvalidShardRequestError(message));
registerRpcError(StorageFullError.errorName, (message) => new StorageFullError(message));
registerRpcError(StorageNodeBusyError.errorName, (_m, f) => new StorageNodeBusyError(Number(f['streamCountMax'] ?? 0)));
registerRpcError(StorageIoError.errorName, (message, f) => new StorageIoError(message, f['errno'] ?? 'EIO'));
registerRpcError(ShardStreamIdleError.errorName, (_m, f) => new ShardStreamIdleError(Number(f['idleTimeoutMs'] ?? 0)));
