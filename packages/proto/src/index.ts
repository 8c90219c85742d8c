/**
 * @packageDocumentation
 * The gRPC schemas in `proto/` at the repository root, loaded with @grpc/proto-loader, and the
 * TypeScript types generated from them (`src/generated/`, made by `npm run codegen`; never
 * edited by hand). Every process loads protos through `loadProto` so that the loader options
 * always match the generated types.
 *
 * ```ts
 * import { loadProto } from '@tessera/proto';
 * import type { ProtoGrpcType } from '@tessera/proto/generated/storage_node';
 * const proto = loadProto('storage_node.proto') as unknown as ProtoGrpcType;
 * ```
 */
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** Loader options; `scripts/codegen.mjs` passes the same ones to the type generator. */
export const protoLoaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

/** Directory that holds the .proto files (repository root `proto/`). */
export const protoDir: string = process.env['TESSERA_PROTO_DIR'] ?? path.resolve(__dirname, '..', '..', '..', 'proto');

const cache = new Map<string, grpc.GrpcObject>();

/** Loads one .proto file (by file name, relative to `protoDir`) into a grpc-js package object. */
export function loadProto(fileName: string): grpc.GrpcObject {
  const cached = cache.get(fileName);
  if (cached !== undefined) return cached;
  const definition = protoLoader.loadSync(path.join(protoDir, fileName), { ...protoLoaderOptions, includeDirs: [protoDir] });
  const loaded = grpc.loadPackageDefinition(definition);
  cache.set(fileName, loaded);
  return loaded;
}
