import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogueDb } from '../src/catalogue-db';
import { openCatalogueDb } from '../src/catalogue-db';
import { CatalogueStateMachine } from '../src/catalogue-state-machine';
import type { CatalogueOptions } from '../src/catalogue-state-machine';
import type { Command } from '../src/commands';
import type { StripeRecord } from '../src/model';

export interface TempCatalogue {
  readonly machine: CatalogueStateMachine;
  readonly db: CatalogueDb;
  readonly dir: string;
  close(): Promise<void>;
}

/** A real LevelDB in a fresh temp dir; `close` removes it. */
export async function openTempCatalogue(options?: CatalogueOptions): Promise<TempCatalogue> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-catalogue-'));
  const db = await openCatalogueDb(join(dir, 'state'));
  const machine = await CatalogueStateMachine.open(db, options);
  return {
    machine, db, dir,
    close: async () => {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const md5a = '0123456789abcdef0123456789abcdef';
export const md5b = 'fedcba9876543210fedcba9876543210';

export function stripe(stripeId: string, nodeIds: readonly string[] = ['sn-1', 'sn-2', 'sn-3']): StripeRecord {
  return { stripeId, dataShardCount: 2, parityShardCount: 1, blockSizeBytes: 1 << 20, shardNodeIds: nodeIds, degradedSpread: false };
}

export function registerNodes(nodeIds: readonly string[] = ['sn-1', 'sn-2', 'sn-3']): Command[] {
  return nodeIds.map((nodeId, i) => ({
    type: 'registerNode', nodeId, az: `az-${i % 3}`, address: `127.0.0.1:${7000 + i}`, capacityBytes: 1e12, freeBytes: 1e12, registeredAtMs: 1000,
  }));
}

export type CommitCommand = Extract<Command, { type: 'commitVersion' }>;

export function putInline(bucket: string, key: string, body = 'x', versionId = 'v1'): CommitCommand {
  return {
    type: 'commitVersion', writeId: undefined, bucket, key, versionId, sizeBytes: Buffer.byteLength(body), etag: md5a, checksums: {},
    contentType: 'text/plain', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', createdAtMs: 2000,
    stripe: undefined, inlineData: Buffer.from(body),
  };
}
