/**
 * S3 access keys: the shape every Tessera key has (the root key of a cluster and the keys an
 * operator creates with `tessera key create`), and their generation from the OS CSPRNG.
 */
import { randomBytes } from 'node:crypto';

export interface AccessKeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const alphabetUpper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const alphabetMixed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Uniform over `alphabet` (rejection sampling: no modulo bias). */
function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/**
 * AWS-shaped keys: a 20-character access key id (`TK` and 18 upper-case letters and digits)
 * and a 40-character secret (238 bits), letters and digits only so they paste into any shell
 * unquoted.
 */
export function generateAccessKeyPair(): AccessKeyPair {
  return { accessKeyId: `TK${randomString(alphabetUpper, 18)}`, secretAccessKey: randomString(alphabetMixed, 40) };
}

/** What an access key id may be, as a regular expression source (no anchors): 3-128 letters and digits. */
export const accessKeyIdPatternSource = '[A-Za-z0-9]{3,128}';
const accessKeyIdPattern = new RegExp(`^${accessKeyIdPatternSource}$`);

/** What makes a key pair unusable, or undefined when it is fine. */
export function accessKeyPairProblem(pair: AccessKeyPair): string | undefined {
  if (!accessKeyIdPattern.test(pair.accessKeyId)) return 'the access key id must be 3-128 letters and digits';
  if (pair.secretAccessKey.length < 16) return 'the secret key must be at least 16 characters';
  if (pair.secretAccessKey.length > 128 || !/^[\x21-\x7e]+$/.test(pair.secretAccessKey)) {
    return 'the secret key must be at most 128 printable ASCII characters without spaces';
  }
  return undefined;
}
