/**
 * The cluster gateway's SSE-S3 master keys, read from the metadata service (which creates the
 * first on the first request of any gateway). The current key is re-read every
 * `currentKeyTtlMs`, so a rotation (`tessera encryption rotate`) reaches every gateway within
 * that time; a key looked up by id never changes and is kept for the life of the process.
 */
import type { Clock } from '@tessera/common';
import type { MetadataClient } from '@tessera/rpc';
import type { MasterKey, MasterKeySource } from '../server-side-encryption';
import { toBackendError } from './metadata-error-mapping';

const masterKeySizeBytes = 32;
/** How long a gateway seals new objects with the key it last read as current. */
export const currentKeyTtlMs = 60_000;

export class MetadataMasterKeySource implements MasterKeySource {
  private current: { readonly key: Promise<MasterKey>; readonly readAtMs: number } | undefined;
  private readonly byId = new Map<string, Promise<MasterKey>>();

  constructor(private readonly metadata: Pick<MetadataClient, 'getEncryptionMasterKey'>, private readonly clock: Clock) {}

  masterKey(): Promise<MasterKey> {
    const nowMs = this.clock.monotonicMs();
    if (this.current === undefined || nowMs - this.current.readAtMs >= currentKeyTtlMs) {
      const key = this.read('');
      this.current = { key, readAtMs: nowMs };
      // Not remembered when it failed: the next request asks again (the metadata service may be back).
      key.catch(() => {
        if (this.current?.key === key) this.current = undefined;
      });
    }
    return this.current.key;
  }

  masterKeyById(keyId: string): Promise<MasterKey> {
    let key = this.byId.get(keyId);
    if (key === undefined) {
      key = this.read(keyId);
      this.byId.set(keyId, key);
      key.catch(() => this.byId.delete(keyId));
    }
    return key;
  }

  private async read(keyId: string): Promise<MasterKey> {
    let record;
    try {
      record = await this.metadata.getEncryptionMasterKey(keyId);
    } catch (error) {
      throw toBackendError(error);
    }
    const key = Buffer.from(record.key);
    if (key.length !== masterKeySizeBytes || record.keyId === '') throw new Error(`the metadata service answered a ${key.length}-byte master key`);
    if (keyId !== '' && record.keyId !== keyId) throw new Error(`asked for master key ${keyId}, the metadata service answered ${record.keyId}`);
    return { keyId: record.keyId, key };
  }
}
