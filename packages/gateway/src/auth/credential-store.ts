/**
 * Where the gateway finds the secret of an access key id, and who the key is. The root key
 * comes from configuration (TESSERA_ROOT_ACCESS_KEY / TESSERA_ROOT_SECRET_KEY, read in main.ts
 * only); the keys an operator creates live in the metadata service
 * (cluster/metadata-credential-store.ts).
 */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Who signed a request (access-policy.ts decides what they may do). */
export interface Principal {
  readonly accessKeyId: string;
  /** The root key: every bucket and every operation. */
  readonly isRoot: boolean;
  /** May create buckets (root always may). */
  readonly canCreateBuckets: boolean;
}

export interface StoredCredential {
  readonly secretAccessKey: string;
  readonly principal: Principal;
}

export interface CredentialStore {
  /** The key's secret and identity, or undefined when the key is unknown (InvalidAccessKeyId). */
  lookup(accessKeyId: string): Promise<StoredCredential | undefined>;
}

/** The principal of a root key. */
export function rootPrincipal(accessKeyId: string): Principal {
  return { accessKeyId, isRoot: true, canCreateBuckets: true };
}

/**
 * A fixed set of keys, e.g. just the root key from configuration. Each is a root key unless it
 * says otherwise (`principal`, for tests of access control without a metadata service).
 */
export class StaticCredentialStore implements CredentialStore {
  private readonly credentials: ReadonlyMap<string, StoredCredential>;
  constructor(credentials: ReadonlyArray<Credentials & { readonly principal?: Principal }>) {
    this.credentials = new Map(credentials.map((c) => [c.accessKeyId, { secretAccessKey: c.secretAccessKey, principal: c.principal ?? rootPrincipal(c.accessKeyId) }]));
  }
  async lookup(accessKeyId: string): Promise<StoredCredential | undefined> {
    return this.credentials.get(accessKeyId);
  }
}

/** Stands for "nobody signed" where a context is needed before authentication (CORS headers). */
export const anonymousPrincipal: Principal = { accessKeyId: '', isRoot: false, canCreateBuckets: false };
