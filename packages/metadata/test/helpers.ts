import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogueDb } from '../src/catalogue-db';
import { openCatalogueDb } from '../src/catalogue-db';
import { CatalogueStateMachine } from '../src/catalogue-state-machine';
import type { ApplyResult, CatalogueOptions } from '../src/catalogue-state-machine';
import { decodeCommand, encodeCommand } from '../src/commands';
import type { Command, StampedCommand } from '../src/commands';
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

/** Applies a command at the next log index, through the wire format as a Raft entry carries it. */
export async function applyEncoded(cat: TempCatalogue, command: StampedCommand): Promise<ApplyResult> {
  return cat.machine.apply(cat.machine.appliedIndex + 1, decodeCommand(encodeCommand(command, command.request)));
}

/** As applyEncoded; the command must succeed. Returns its value. */
export async function applyOk(cat: TempCatalogue, command: StampedCommand): Promise<unknown> {
  const result = await applyEncoded(cat, command);
  if (!result.ok) throw result.error;
  return result.value;
}

/** As applyEncoded; the command must be refused. Returns the refusal. */
export async function applyRefused(cat: TempCatalogue, command: StampedCommand): Promise<Error> {
  const result = await applyEncoded(cat, command);
  if (result.ok) throw new Error(`expected a refusal of ${command.type}`);
  return result.error;
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
