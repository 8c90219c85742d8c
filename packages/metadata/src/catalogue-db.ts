import { Level } from 'level';

/**
 * The state-machine database: one LevelDB with Buffer keys and values. A type alias keeps the
 * generic parameters in one place.
 */
export type CatalogueDb = Level<Buffer, Buffer>;

/**
 * LevelDB's block cache (uncompressed blocks). 64 MiB instead of the 8 MiB default keeps the
 * hot part of a large catalogue (listing pages, bucket and node records) out of snappy.
 */
const blockCacheSizeBytes = 64 * 1024 * 1024;

export async function openCatalogueDb(directory: string): Promise<CatalogueDb> {
  const db = new Level<Buffer, Buffer>(directory, { keyEncoding: 'buffer', valueEncoding: 'buffer', cacheSize: blockCacheSizeBytes });
  await db.open();
  return db;
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(
    JSON.stringify(value, (_key, item: unknown) => {
      if (typeof item === 'object' && item !== null && (item as { type?: unknown }).type === 'Buffer' && Array.isArray((item as { data?: unknown }).data)) {
        return { $b64: Buffer.from((item as { data: number[] }).data).toString('base64') };
      }
      return item;
    }),
    'utf8',
  );
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && typeof (value as { $b64?: unknown }).$b64 === 'string') {
      return Buffer.from((value as { $b64: string }).$b64, 'base64');
    }
    return value;
  }) as T;
}

/** Reads one JSON record, or undefined when the key is absent. */
export async function getJson<T>(db: CatalogueDb, key: Buffer): Promise<T | undefined> {
  const value = await db.get(key);
  return value === undefined ? undefined : decodeJson<T>(value);
}
