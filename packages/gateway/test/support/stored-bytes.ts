import type { S3Backend } from '../../src/backend';

/** An object's bytes as `backend` holds them (under the gateway's encryption: ciphertext). */
export async function storedBytes(backend: S3Backend, bucket: string, key: string): Promise<Buffer> {
  const reader = await backend.openObject(bucket, key);
  const chunks: Uint8Array[] = [];
  for await (const chunk of reader.read(0, reader.info.sizeBytes - 1)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
