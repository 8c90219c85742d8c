/**
 * @packageDocumentation
 * The S3 protocol layer of the Tessera gateway: SigV4 authentication (header, presigned,
 * aws-chunked with chunk and trailer signatures), flexible checksums, a pure request parser,
 * XML bodies, conditional and range requests, one S3 error catalogue, metrics, and the express
 * app. Storage sits behind the `S3Backend` interface (backend.ts), implemented by the
 * erasure-coded data path.
 *
 * ```ts
 * import { Registry } from 'prom-client';
 * import { createJsonLogger, systemClock } from '@tessera/common';
 * import { createGatewayApp, createGatewayMetrics, defaultGatewayLimits, startGatewayServer, StaticCredentialStore } from '@tessera/gateway';
 *
 * const logger = createJsonLogger({ levelMin: 'info', write: (line) => process.stderr.write(`${line}\n`), nowMs: () => Date.now() });
 * const app = createGatewayApp(
 *   { region: 'us-east-1', virtualHostBaseDomains: ['s3.localhost'], limits: defaultGatewayLimits },
 *   { backend, credentials: new StaticCredentialStore([{ accessKeyId, secretAccessKey }]), clock: systemClock, logger, metrics: createGatewayMetrics(new Registry()) },
 * );
 * const server = await startGatewayServer(app, { host: '0.0.0.0', port: 9000, headerSectionBytesMax: 16 * 1024, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 65_000 }, logger);
 * ```
 */
export { createGatewayApp } from './app';
export type { GatewayComponents } from './app';
export type { Credentials, CredentialStore, Principal, StoredCredential } from './auth/credential-store';
export { StaticCredentialStore, rootPrincipal } from './auth/credential-store';
export { authenticateRequest, clockSkewMsMax, presignExpiresSecondsMax } from './auth/verify-request';
export type { AuthRequestView, AuthResult, ChunkSigningContext, PayloadMode } from './auth/verify-request';
export { AwsChunkedDecoder, signedChunkSizeBytesMin } from './auth/aws-chunked-decoder';
export { S3BackendError } from './backend';
export type {
  BucketInfo,
  CompletedPartSelection,
  CompleteMultipartRequest,
  ListEntry,
  ListObjectsPage,
  ListObjectsRequest,
  ListPartsPage,
  ListUploadsPage,
  ListUploadsRequest,
  MultipartChecksum,
  MultipartUploadInfo,
  ObjectInfo,
  ObjectReader,
  PartInfo,
  PutObjectRequest,
  S3Backend,
  S3BackendErrorReason,
  UploadListEntry,
  WriteCondition,
} from './backend';
export { checksumAlgorithms, computeChecksum, createChecksum, multipartEtag } from './checksums';
export type { ChecksumAlgorithm, ChecksumType, ChecksumValues, IncrementalChecksum } from './checksums';
export { combineCrc } from './crc-combine';
export { Crc64Nvme } from './crc64-nvme';
export type { GatewayLimits, GatewayOptions } from './handler-context';
export { defaultGatewayLimits, validateGatewayLimits } from './limits';
export { listWithDelimiter } from './listing';
export type { ListedItem, ListingPage, ListingQuery } from './listing';
export { createGatewayMetrics } from './metrics';
export type { GatewayMetrics } from './metrics';
export type { ObjectHeaders, StoredSystemHeader } from './object-headers';
export { parseS3Request, resolveVirtualHostBucket } from './parse-s3-request';
export type { S3RequestInput } from './parse-s3-request';
export type { BodySummary, VerifiedBody } from './request-body';
export { isS3ErrorCode, S3Error, s3ErrorCatalogue } from './s3-errors';
export type { S3ErrorCode } from './s3-errors';
export { s3OperationKinds } from './s3-operation';
export type { S3Operation, S3OperationKind } from './s3-operation';
export { headerSectionBytesMaxDefault, keepAliveTimeoutMsDefault, startGatewayServer } from './server';
export type { GatewayServerOptions, RunningGatewayServer } from './server';
export { ClusterS3Backend } from './cluster/cluster-backend';
export type { ClusterBackendComponents, ClusterBackendOptions } from './cluster/cluster-backend';
export { dataPathOptions, defaultDataPathOptions, validateDataPathOptions } from './cluster/data-path-options';
export type { DataPathOptions } from './cluster/data-path-options';
export { GatewayListenError, startGateway } from './cluster/gateway-process';
export type { GatewayProcessComponents, RunningGateway } from './cluster/gateway-process';
export { GatewayProcessConfigError, gatewayUsage, resolveGatewayProcessConfig } from './cluster/gateway-process-config';
export type { GatewayProcessConfig } from './cluster/gateway-process-config';
export { StorageNodePool } from './cluster/storage-node-pool';
