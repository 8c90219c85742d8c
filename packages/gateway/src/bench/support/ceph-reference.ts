/**
 * Ceph RGW (EC 4+2 pool, AWS SDK v3 client) measured on this same 2-core machine, as quoted in
 * the gateway issue; the aim is at least twice each figure. Shared by the gateway benches.
 */
export interface CephReferenceCase {
  readonly label: string;
  readonly sizeBytes: number;
  readonly concurrency: number;
  readonly unit: 'MB/s' | 'ops/s';
  readonly put: number;
  readonly get: number;
}

export const cephReference: readonly CephReferenceCase[] = [
  { label: '16 MiB', sizeBytes: 16 * 1024 * 1024, concurrency: 1, unit: 'MB/s', put: 95, get: 197 },
  { label: '1 MiB', sizeBytes: 1024 * 1024, concurrency: 8, unit: 'MB/s', put: 57, get: 151 },
  { label: '4 KiB', sizeBytes: 4 * 1024, concurrency: 16, unit: 'ops/s', put: 100, get: 310 },
];
