/**
 * Starts a real gateway (express on 127.0.0.1:0) over the InMemoryS3Backend, with its own
 * prom-client Registry, for end-to-end tests. Test code only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { silentLogger, systemClock } from '@tessera/common';
import type { Clock, Logger } from '@tessera/common';
import { createGatewayApp } from '../../src/app';
import { StaticCredentialStore } from '../../src/auth/credential-store';
import type { GatewayOptions } from '../../src/handler-context';
import type { Principal } from '../../src/auth/credential-store';
import type { MasterKey } from '../../src/server-side-encryption';
import { createGatewayMetrics } from '../../src/metrics';
import type { GatewayMetrics } from '../../src/metrics';
import { partSizeBytesMax, partSizeBytesMin, putObjectSizeBytesMax } from '../../src/multipart';
import { headerSectionBytesMaxDefault, keepAliveTimeoutMsDefault, startGatewayServer } from '../../src/server';
import type { RunningGatewayServer, TlsCredentials } from '../../src/server';
import { InMemoryS3Backend } from './in-memory-backend';

export const testAccessKeyId = 'TESSERATESTKEY000001';
export const testSecretAccessKey = 'tessera/test/secret+key/0123456789abcdef';
export const testRegion = 'us-east-1';

/** A non-root access key for access-control tests (may create buckets), as `moreKeys` takes it. */
export function nonRootKey(accessKeyId: string): { accessKeyId: string; secretAccessKey: string; principal: Principal } {
  return { accessKeyId, secretAccessKey: `${accessKeyId}/secret/0123456789abcdef`, principal: { accessKeyId, isRoot: false, canCreateBuckets: true } };
}
const testMasterKeyBytes = randomBytes(32);
export const testMasterKey: MasterKey = { keyId: createHash('sha256').update(testMasterKeyBytes).digest('hex').slice(0, 16), key: testMasterKeyBytes };

export interface TestGateway {
  readonly server: RunningGatewayServer;
  readonly endpoint: string;
  readonly port: number;
  readonly backend: InMemoryS3Backend;
  readonly metrics: GatewayMetrics;
  stop(): Promise<void>;
}

export function testGatewayOptions(overrides: Partial<GatewayOptions> = {}): GatewayOptions {
  return {
    region: testRegion,
    virtualHostBaseDomains: ['s3.localhost', 'localhost'],
    limits: {
      putObjectSizeBytesMax,
      partSizeBytesMax,
      partSizeBytesMin,
      chunkSizeBytesMax: 16 * 1024 * 1024,
      copySizeBytesMax: putObjectSizeBytesMax,
      responseStallMsMax: 60_000,
    },
    ...overrides,
  };
}

/**
 * `moreKeys`: access keys besides the root test key (e.g. non-root principals for access tests).
 */
export async function startTestGateway(options: { clock?: Clock; gateway?: Partial<GatewayOptions>; moreKeys?: ConstructorParameters<typeof StaticCredentialStore>[0]; tls?: TlsCredentials; logger?: Logger } = {}): Promise<TestGateway> {
  const clock = options.clock ?? systemClock;
  const registry = new Registry();
  const metrics = createGatewayMetrics(registry);
  const backend = new InMemoryS3Backend(clock);
  const app = createGatewayApp(testGatewayOptions(options.gateway), {
    backend,
    credentials: new StaticCredentialStore([{ accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey }, ...(options.moreKeys ?? [])]),
    clock,
    logger: options.logger ?? silentLogger,
    metrics,
    // The cluster gateway reads its master key from the metadata service; here it lives in memory.
    encryptionKeys: {
      masterKey: async () => testMasterKey,
      masterKeyById: async (keyId) => {
        if (keyId !== testMasterKey.keyId) throw new Error(`no master key ${keyId}`);
        return testMasterKey;
      },
    },
  });
  const server = await startGatewayServer(app, { host: '127.0.0.1', port: 0, headerSectionBytesMax: headerSectionBytesMaxDefault, requestTimeoutMs: 60_000, keepAliveTimeoutMs: keepAliveTimeoutMsDefault, ...(options.tls === undefined ? {} : { tls: options.tls }) }, silentLogger);
  return { server, endpoint: server.endpoint, port: server.port, backend, metrics, stop: () => server.stop() };
}
