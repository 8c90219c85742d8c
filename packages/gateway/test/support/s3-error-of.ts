import { S3ServiceException } from '@aws-sdk/client-s3';

/** The S3 error an SDK call fails with; anything else (success, a non-S3 error) fails the test. */
export async function s3ErrorOf(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3ServiceException) return error;
    throw error;
  }
  throw new Error('expected an S3 error');
}

/** The HTTP status and S3 error code an SDK call fails with (as s3ErrorOf). */
export async function s3StatusAndName(promise: Promise<unknown>): Promise<[number | undefined, string]> {
  const error = await s3ErrorOf(promise);
  return [error.$metadata.httpStatusCode, error.name];
}
