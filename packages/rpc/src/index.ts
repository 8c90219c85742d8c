/**
 * @packageDocumentation
 * gRPC plumbing shared by Tessera's services and their clients: deadlines, and typed errors
 * that survive the trip across the wire.
 *
 * ```ts
 * import { toGrpcError, fromGrpcError, deadlineAfterMs } from '@tessera/rpc';
 * ```
 */
export { deadlineAfterMs } from './deadline';
export { RpcStatusError, TesseraError, fromGrpcError, registerRpcError, toGrpcError } from './errors';
