import * as grpc from '@grpc/grpc-js';

/**
 * Typed errors cross gRPC deliberately: the server side turns a `TesseraError` into a gRPC
 * status plus the metadata key `tessera-error-name` (and `tessera-error-fields`, JSON), and the
 * client side turns that back into the same class, so callers use `instanceof`, never substring
 * matching on messages. Errors that are not `TesseraError`s become INTERNAL on the wire.
 */
export abstract class TesseraError extends Error {
  /** The gRPC status this error travels as. */
  abstract readonly grpcCode: grpc.status;
  /** Extra structured fields that must survive the trip (e.g. a leader hint). */
  fields(): Record<string, string> {
    return {};
  }
}

type ErrorFactory = (message: string, fields: Record<string, string>) => TesseraError;
const registry = new Map<string, ErrorFactory>();

/** Registers how to rebuild an error class from its wire form. Call once per class, at module load. */
export function registerRpcError(name: string, factory: ErrorFactory): void {
  registry.set(name, factory);
}

const nameKey = 'tessera-error-name';
const fieldsKey = 'tessera-error-fields';

/**
 * JSON whose every character is printable ASCII, as an ASCII gRPC metadata value must be
 * (grpc-js throws on anything else): characters outside 0x20-0x7E are written as `\uXXXX`
 * escapes (a character beyond the BMP as its two surrogates), which JSON.parse reads back
 * exactly. Error fields carry object keys, which may be any Unicode.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Server side: the object to pass to a grpc-js callback or `call.destroy()`/`emit('error')`.
 * Never throws: it runs in the handlers' failure paths, where a throw is an unhandled rejection
 * that ends the process.
 */
export function toGrpcError(err: unknown): Partial<grpc.StatusObject> & Error {
  if (err instanceof TesseraError) {
    try {
      const metadata = new grpc.Metadata();
      metadata.set(nameKey, err.name);
      metadata.set(fieldsKey, asciiJson(err.fields()));
      return Object.assign(new Error(err.message), { code: err.grpcCode, details: err.message, metadata });
    } catch {
      // Falls through to an INTERNAL status below, without the typed error's metadata.
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return Object.assign(new Error(message), { code: grpc.status.INTERNAL, details: `internal error: ${message}` });
}

/** A gRPC failure that carried no registered Tessera error (transport errors, deadlines…). */
export class RpcStatusError extends Error {
  static readonly errorName = 'RpcStatusError';
  constructor(readonly code: grpc.status, readonly details: string) {
    super(`${grpc.status[code] ?? code}: ${details}`);
    this.name = RpcStatusError.errorName;
  }
}

/** Client side: rebuilds the typed error from a grpc-js ServiceError. */
export function fromGrpcError(err: unknown): Error {
  if (!isServiceError(err)) return err instanceof Error ? err : new Error(String(err));
  const name = err.metadata?.get(nameKey)[0];
  if (typeof name !== 'string' || !registry.has(name)) return new RpcStatusError(err.code, err.details);
  const rawFields = err.metadata.get(fieldsKey)[0];
  let fields: Record<string, string> = {};
  if (typeof rawFields === 'string') {
    try {
      fields = JSON.parse(rawFields) as Record<string, string>;
    } catch {
      fields = {};
    }
  }
  return fromWireError({ name, code: err.code, message: err.details, fields });
}

/**
 * An error as the storage node's shard data protocol carries it (the same information as a
 * gRPC status with Tessera's metadata keys: see shard-data-protocol.ts).
 */
export interface WireError {
  readonly name: string;
  /** gRPC status code number. */
  readonly code: number;
  readonly message: string;
  readonly fields: Record<string, string>;
}

/** Server side of the data protocol: what `toGrpcError` would send, as a plain object. */
export function toWireError(err: unknown): WireError {
  if (err instanceof TesseraError) return { name: err.name, code: err.grpcCode, message: err.message, fields: err.fields() };
  const message = err instanceof Error ? err.message : String(err);
  return { name: '', code: grpc.status.INTERNAL, message: `internal error: ${message}`, fields: {} };
}

/** Client side of the data protocol: the registered typed error, else an RpcStatusError. */
export function fromWireError(wire: WireError): Error {
  const factory = registry.get(wire.name);
  if (factory !== undefined) return factory(wire.message, wire.fields);
  return new RpcStatusError(wire.code, wire.message);
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number' && 'details' in err;
}
