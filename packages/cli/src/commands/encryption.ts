/**
 * `tessera encryption [status] | rotate`: the cluster's SSE-S3 master keys, kept by the metadata
 * service. `rotate` makes a new key current: gateways seal new objects with it within a minute;
 * objects sealed before keep their key, which stays in the catalogue to open them. Key bytes
 * never leave the metadata service through these commands.
 */
import { operatorMetadataClient } from '../cluster-access';
import { UsageError } from '../errors';
import { renderTable } from '../table';

export interface EncryptionCommandResult {
  readonly json: unknown;
  readonly text: string;
}

export async function runEncryptionCommand(subcommand: string | undefined, addresses: readonly string[]): Promise<EncryptionCommandResult> {
  const client = operatorMetadataClient(addresses);
  try {
    switch (subcommand) {
      case 'status':
      case undefined: {
        const keys = await client.listEncryptionMasterKeys();
        const json = { keys: keys.map((key, index) => ({ keyId: key.keyId, createdAtMs: key.createdAtMs, current: index === keys.length - 1 })) };
        if (keys.length === 0) return { json, text: 'no master key yet: the metadata service creates one on the first encrypted write' };
        const rows = keys.map((key, index) => [key.keyId, new Date(key.createdAtMs).toISOString(), index === keys.length - 1 ? 'current (seals new objects)' : 'retired (opens what it sealed)']);
        return { json, text: renderTable(['MASTER KEY', 'CREATED', 'STATE'], rows) };
      }
      case 'rotate': {
        const key = await client.rotateEncryptionMasterKey();
        return {
          json: { keyId: key.keyId, createdAtMs: key.createdAtMs },
          text: `New master key ${key.keyId} is current: gateways seal new objects with it within 60 s; objects sealed before keep their key.`,
        };
      }
      default:
        throw new UsageError(`unknown encryption command "${subcommand}": tessera encryption [status] | rotate`);
    }
  } finally {
    client.close();
  }
}
