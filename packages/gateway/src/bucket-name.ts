/**
 * S3 bucket naming rules (general purpose buckets, S3 User Guide "Bucket naming rules"):
 * 3-63 characters of a-z 0-9 . -, starting and ending with a letter or digit, no "..", not an
 * IPv4 address, no hyphen next to a period, and none of the reserved prefixes/suffixes. One definition for CreateBucket
 * and for every request that names a bucket, so an impossible name is refused early.
 */
import { S3Error } from './s3-errors';

export const bucketNameLengthMin = 3;
export const bucketNameLengthMax = 63;

const reservedPrefixes = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const reservedSuffixes = ['-s3alias', '--ol-s3', '.mrap', '--x-s3'];

/** Returns why `name` is invalid, or undefined when it is a valid bucket name. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < bucketNameLengthMin || name.length > bucketNameLengthMax) return 'must be 3 to 63 characters long';
  if (!/^[a-z0-9.-]+$/.test(name)) return 'may contain only lower-case letters, digits, dots and hyphens';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'must begin and end with a letter or digit';
  if (name.includes('..')) return 'must not contain two adjacent periods';
  // Every dot-separated label must be a DNS label (letter or digit at both ends), or the name
  // cannot be used virtual-hosted style: "a.-b" and "a-.b" are refused (s3-tests dns_dot_dash).
  if (name.includes('.-') || name.includes('-.')) return 'must not contain a hyphen next to a period';
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return 'must not be formatted as an IP address';
  if (reservedPrefixes.some((prefix) => name.startsWith(prefix))) return 'uses a reserved prefix';
  if (reservedSuffixes.some((suffix) => name.endsWith(suffix))) return 'uses a reserved suffix';
  return undefined;
}

export function assertValidBucketName(name: string): void {
  const problem = bucketNameProblem(name);
  if (problem !== undefined) {
    throw new S3Error('InvalidBucketName', { message: `The specified bucket is not valid: ${problem}.`, fields: { BucketName: name } });
  }
}
