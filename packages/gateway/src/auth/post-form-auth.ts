/**
 * Authentication of a browser-form upload (POST Object): the form, not the request headers,
 * carries the credentials, and what is signed is the base64 policy document itself.
 *  - Signature Version 4 (`@aws-sdk/s3-presigned-post`, boto3 `generate_presigned_post`):
 *    `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature` = hex
 *    HMAC-SHA256 of the policy with the scope's signing key.
 *  - Signature Version 2 (older SDKs, s3-tests): `AWSAccessKeyId` and `signature` = base64
 *    HMAC-SHA1 of the policy with the secret key.
 * The policy's expiration bounds the form's life (post-policy.ts), not `x-amz-date`. A form with
 * no credentials is an anonymous upload: AccessDenied, since no bucket is publicly writable.
 */
import { S3Error } from '../s3-errors';
import { sigV2SignaturesEqual, signV2 } from './sigv2';
import { deriveSigningKey, parseAmzDate, sigV4Algorithm, signHex, signaturesEqual } from './sigv4';
import { checkScope, credentialOrThrow, parseCredential } from './verify-request';
import type { AuthOptions } from './verify-request';
import type { Principal } from './credential-store';

function missingField(name: string): S3Error {
  return new S3Error('InvalidArgument', {
    message: `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    fields: { ArgumentName: name, ArgumentValue: '' },
  });
}

/**
 * Verifies the form's signature over its policy; returns the principal whose key signed it.
 * `fields` are the form fields before the file, by lower-case name.
 */
export async function authenticatePostForm(fields: ReadonlyMap<string, string>, options: AuthOptions): Promise<Principal> {
  const v4 = fields.has('x-amz-credential') || fields.has('x-amz-signature') || fields.has('x-amz-algorithm');
  const v2 = fields.has('awsaccesskeyid') || fields.has('signature');
  if (!v4 && !v2) {
    throw new S3Error('AccessDenied', { message: 'Anonymous POST uploads are not allowed: sign the policy (no bucket is publicly writable).' });
  }
  const policy = fields.get('policy');
  if (policy === undefined) throw missingField('policy');
  if (v4) {
    const algorithm = fields.get('x-amz-algorithm');
    if (algorithm === undefined) throw missingField('x-amz-algorithm');
    if (algorithm !== sigV4Algorithm) {
      throw new S3Error('InvalidArgument', { message: `Unsupported x-amz-algorithm '${algorithm}'; expecting ${sigV4Algorithm}.`, fields: { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm } });
    }
    const credentialField = fields.get('x-amz-credential');
    if (credentialField === undefined) throw missingField('x-amz-credential');
    const amzDate = fields.get('x-amz-date');
    if (amzDate === undefined) throw missingField('x-amz-date');
    if (parseAmzDate(amzDate) === undefined) {
      throw new S3Error('InvalidArgument', { message: `x-amz-date must be in the ISO8601 basic format (yyyyMMdd'T'HHmmss'Z').`, fields: { ArgumentName: 'x-amz-date', ArgumentValue: amzDate } });
    }
    const signature = fields.get('x-amz-signature');
    if (signature === undefined) throw missingField('x-amz-signature');
    const credential = parseCredential(credentialField, 'InvalidArgument');
    checkScope(credential, amzDate, options, 'InvalidArgument');
    const { secretAccessKey: secret, principal } = await credentialOrThrow(credential.accessKeyId, options);
    const expected = signHex(deriveSigningKey(secret, credential.scope), policy);
    if (!signaturesEqual(expected, signature.toLowerCase())) {
      throw new S3Error('SignatureDoesNotMatch', { fields: { AWSAccessKeyId: credential.accessKeyId, StringToSign: policy, SignatureProvided: signature } });
    }
    return principal;
  }
  const accessKeyId = fields.get('awsaccesskeyid');
  if (accessKeyId === undefined) throw missingField('AWSAccessKeyId');
  const signature = fields.get('signature');
  if (signature === undefined) throw missingField('signature');
  const { secretAccessKey: secret, principal } = await credentialOrThrow(accessKeyId, options);
  if (!sigV2SignaturesEqual(signV2(secret, policy), signature)) {
    throw new S3Error('SignatureDoesNotMatch', { fields: { AWSAccessKeyId: accessKeyId, StringToSign: policy, SignatureProvided: signature } });
  }
  return principal;
}
