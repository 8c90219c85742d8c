import type { CatalogueDb } from './catalogue-db';
import { decodeJson } from './catalogue-db';
import { escapeKey, prefixUpperBound, uploadKeyPrefix } from './keys';
import type { UploadRecord } from './model';

export interface ListUploadsParams {
  readonly bucket: string;
  readonly prefix: string;
  readonly keyMarker: string;
  readonly uploadIdMarker: string;
  readonly maxUploads: number;
}

export interface ListUploadsPage {
  readonly uploads: readonly UploadRecord[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker: string;
  readonly nextUploadIdMarker: string;
}

/**
 * ListMultipartUploads: uploads in (key, upload id) order, a range scan over
 * `[0x04] bucket [0x00] escaped-key upload-id`. S3 marker rules: with only a key marker, list
 * keys after it; with both, list that key's uploads after the upload-id marker, then later keys.
 */
export async function listUploads(db: CatalogueDb, params: ListUploadsParams): Promise<ListUploadsPage> {
  const maxUploads = Math.max(0, Math.min(params.maxUploads === 0 ? 1000 : params.maxUploads, 1000));
  const base = uploadKeyPrefix(params.bucket);
  const upper = prefixUpperBound(base);
  const markerKey = params.keyMarker;
  let gte = base;
  if (markerKey !== '') gte = Buffer.concat([base, escapeKey(Buffer.from(markerKey, 'utf8'))]);
  const uploads: UploadRecord[] = [];
  let isTruncated = false;
  const iterator = db.values({ gte, ...(upper === undefined ? {} : { lt: upper }) });
  try {
    for await (const value of iterator) {
      const upload = decodeJson<UploadRecord>(value);
      if (upload.key === markerKey && (params.uploadIdMarker === '' || upload.uploadId <= params.uploadIdMarker)) continue;
      if (!upload.key.startsWith(params.prefix)) continue;
      if (uploads.length === maxUploads) {
        isTruncated = true;
        break;
      }
      uploads.push(upload);
    }
  } finally {
    await iterator.close();
  }
  const last = uploads[uploads.length - 1];
  return {
    uploads,
    isTruncated,
    nextKeyMarker: isTruncated && last !== undefined ? last.key : '',
    nextUploadIdMarker: isTruncated && last !== undefined ? last.uploadId : '',
  };
}
