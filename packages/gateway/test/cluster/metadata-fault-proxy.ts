/**
 * A Metadata gRPC service on loopback that forwards every call to the real metadata group
 * (following the leader itself, so the gateway only ever sees this address) and can inject the
 * one fault a leader freeze produces: a write that commits while its caller sees the attempt
 * fail, followed by "not the leader" answers while the group elects. Test code only.
 */
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '@tessera/proto';
import { NotLeaderError, fromGrpcError, metadataRequestIdKey, toGrpcError } from '@tessera/rpc';

type MethodDefinition = grpc.MethodDefinition<object, object>;

export interface CommitFault {
  /** The method whose next call is committed for real but answered UNAVAILABLE. */
  readonly method: string;
  /** Attempts after that (same request id) answered "not the leader" without being forwarded. */
  readonly notLeaderAttemptCount: number;
}

export class MetadataFaultProxy {
  private fault: CommitFault | undefined;
  private faultedRequestId: string | undefined;
  private notLeaderAnswersLeft = 0;
  /** Calls of `fault.method` whose commit the caller was told had failed. */
  committedButFailedCount = 0;

  private constructor(
    private readonly server: grpc.Server,
    private readonly upstreams: readonly grpc.Client[],
    readonly address: string,
  ) {}

  static async start(upstreamAddresses: readonly string[]): Promise<MetadataFaultProxy> {
    const definition = (loadProto('metadata.proto') as unknown as { tessera: { metadata: { v1: { Metadata: { service: Record<string, MethodDefinition> } } } } })
      .tessera.metadata.v1.Metadata.service;
    const upstreams = upstreamAddresses.map((address) => new grpc.Client(address, grpc.credentials.createInsecure()));
    const server = new grpc.Server();
    let proxy: MetadataFaultProxy | undefined;
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      handlers[name] = (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
        if (proxy === undefined) return callback({ code: grpc.status.UNAVAILABLE, details: 'proxy starting' });
        void proxy.handle(name, method, call, callback);
      };
    }
    server.addService(definition, handlers);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err === null ? resolve(bound) : reject(err)));
    });
    proxy = new MetadataFaultProxy(server, upstreams, `127.0.0.1:${port}`);
    return proxy;
  }

  /** Arms the fault for the next call of `fault.method`. */
  injectCommitFault(fault: CommitFault): void {
    this.fault = fault;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    for (const upstream of this.upstreams) upstream.close();
  }

  private async handle(name: string, method: MethodDefinition, call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>): Promise<void> {
    const requestId = String(call.metadata.get(metadataRequestIdKey)[0] ?? '');
    if (this.faultedRequestId !== undefined && requestId === this.faultedRequestId && this.notLeaderAnswersLeft > 0) {
      this.notLeaderAnswersLeft -= 1;
      callback(toGrpcError(new NotLeaderError(undefined, 'not the leader (election in progress)')));
      return;
    }
    const armed = this.fault !== undefined && this.fault.method === name && requestId !== '' ? this.fault : undefined;
    if (armed !== undefined) this.fault = undefined;
    const result = await this.forward(method, call);
    if (armed !== undefined && result.error === null) {
      // The write is committed; the caller hears that its connection dropped.
      this.committedButFailedCount += 1;
      this.faultedRequestId = requestId;
      this.notLeaderAnswersLeft = armed.notLeaderAttemptCount;
      callback({ code: grpc.status.UNAVAILABLE, details: 'connection dropped (injected)' });
      return;
    }
    if (result.error !== null) callback(result.error);
    else callback(null, result.response);
  }

  /** Tries each upstream until one does not answer NotLeaderError (as MetadataClient, which retries those). */
  private async forward(method: MethodDefinition, call: grpc.ServerUnaryCall<object, object>): Promise<{ error: grpc.ServiceError | null; response: object | undefined }> {
    let last: { error: grpc.ServiceError | null; response: object | undefined } = { error: null, response: undefined };
    for (let round = 0; round < 20; round += 1) {
      for (const upstream of this.upstreams) {
        last = await new Promise((resolve) => {
          upstream.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, call.request, call.metadata, { deadline: Date.now() + 10_000 }, (error, response) =>
            resolve({ error: error ?? null, response }),
          );
        });
        if (last.error === null || !(fromGrpcError(last.error) instanceof NotLeaderError)) return last;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return last;
  }
}
