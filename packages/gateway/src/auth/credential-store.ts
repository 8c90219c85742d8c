/**
 * Where the gateway finds the secret for an access key id. The root key comes from
 * configuration (TESSERA_ROOT_ACCESS_KEY / TESSERA_ROOT_SECRET_KEY, read in main.ts only);
 * a later IAM-like store implements the same interface.
 */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface CredentialStore {
  /** The secret for `accessKeyId`, or undefined when the key is unknown (InvalidAccessKeyId). */
  secretFor(accessKeyId: string): Promise<string | undefined>;
}

/** A fixed set of keys, e.g. just the root key from configuration. */
export class StaticCredentialStore implements CredentialStore {
  private readonly secrets: ReadonlyMap<string, string>;
  constructor(credentials: readonly Credentials[]) {
    this.secrets = new Map(credentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
  }
  async secretFor(accessKeyId: string): Promise<string | undefined> {
    return this.secrets.get(accessKeyId);
  }
}
