/**
 * The cluster gateway's credentials: the root key from configuration, then the access keys
 * operators create (`tessera key create`), read from the metadata service and kept for a few
 * seconds. A key deleted with `tessera key rm` stops working on every gateway within
 * `accessKeyCacheTtlMs`.
 */
import type { Clock } from '@tessera/common';
import { NoSuchAccessKeyError } from '@tessera/rpc';
import type { MetadataClient } from '@tessera/rpc';
import { rootPrincipal } from '../auth/credential-store';
import type { CredentialStore, Credentials, StoredCredential } from '../auth/credential-store';
import { S3Error } from '../s3-errors';

/** How long a gateway trusts a key it read (and how long a deleted key may still work). */
export const accessKeyCacheTtlMs = 5_000;
/** How long an unknown key id is remembered as unknown (a key just created works after this). */
export const unknownAccessKeyCacheTtlMs = 1_000;
/** Lookups of uncached keys at once; more is SlowDown (signature checks come after, so these are unauthenticated). */
export const accessKeyLookupsInFlightMax = 32;
const cachedKeyCountMax = 10_000;

export class MetadataCredentialStore implements CredentialStore {
  private readonly root: StoredCredential & { readonly accessKeyId: string };
  private readonly entries = new Map<string, { readonly credential: StoredCredential | undefined; readonly readAtMs: number }>();
  private readonly inFlight = new Map<string, Promise<StoredCredential | undefined>>();

  constructor(root: Credentials, private readonly metadata: Pick<MetadataClient, 'getAccessKey'>, private readonly clock: Clock) {
    this.root = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey, principal: rootPrincipal(root.accessKeyId) };
  }

  async lookup(accessKeyId: string): Promise<StoredCredential | undefined> {
    if (accessKeyId === this.root.accessKeyId) return this.root;
    // Ids are letters and digits: anything else cannot be a key, and costs no metadata read.
    if (!/^[A-Za-z0-9]{3,128}$/.test(accessKeyId)) return undefined;
    const nowMs = this.clock.monotonicMs();
    const cached = this.entries.get(accessKeyId);
    if (cached !== undefined && nowMs - cached.readAtMs < (cached.credential === undefined ? unknownAccessKeyCacheTtlMs : accessKeyCacheTtlMs)) {
      return cached.credential;
    }
    const pending = this.inFlight.get(accessKeyId);
    if (pending !== undefined) return pending;
    if (this.inFlight.size >= accessKeyLookupsInFlightMax) throw new S3Error('SlowDown', { message: 'Too many access key lookups at once. Please retry.' });
    const lookup = this.readKey(accessKeyId).then((credential) => {
      if (this.entries.size >= cachedKeyCountMax) this.entries.clear();
      this.entries.set(accessKeyId, { credential, readAtMs: nowMs });
      return credential;
    }).finally(() => this.inFlight.delete(accessKeyId));
    this.inFlight.set(accessKeyId, lookup);
    return lookup;
  }

  /** The key from the metadata service; undefined when there is none. */
  private async readKey(accessKeyId: string): Promise<StoredCredential | undefined> {
    try {
      const key = await this.metadata.getAccessKey(accessKeyId);
      return { secretAccessKey: key.secretAccessKey, principal: { accessKeyId, isRoot: false, canCreateBuckets: key.canCreateBuckets } };
    } catch (err) {
      if (err instanceof NoSuchAccessKeyError) return undefined;
      throw new S3Error('ServiceUnavailable', { message: 'The access key could not be checked: the metadata service is unavailable. Please retry.', cause: err });
    }
  }
}
