/**
 * Recognised S3 features Tessera does not implement: 501 NotImplemented, never silently ignored.
 */
import { S3Error } from '../s3-errors';

export function handleNotImplemented(feature: string): never {
  throw new S3Error('NotImplemented', { message: `${feature} is not implemented by Tessera.` });
}
