/**
 * The acknowledged-write ledger and the operation history it is checked against.
 *
 * Every S3 operation the workload or a scenario issues is recorded with its invocation and
 * completion time (monotonic ms). A write (PUT or DELETE) is `ok` when S3 acknowledged it and
 * `maybe` when its outcome is unknown (error, timeout, connection cut): a maybe write may take
 * effect at any later time or never, so its value is always allowed but never required.
 * Values are SHA-256 hex digests of the whole body; `undefined` means "no object" (404).
 */
import { performance } from 'node:perf_hooks';

export type WriteOutcome = 'ok' | 'maybe';

export interface WriteRecord {
  readonly kind: 'write';
  readonly scenario: string;
  readonly key: string;
  /** SHA-256 of the body; undefined for a DELETE. */
  readonly sha256: string | undefined;
  readonly sizeBytes: number;
  readonly multipart: boolean;
  readonly startMs: number;
  readonly endMs: number;
  readonly outcome: WriteOutcome;
  readonly error?: string;
}

export type ReadObservation =
  | { readonly kind: 'value'; readonly sha256: string; readonly sizeBytes: number }
  | { readonly kind: 'absent' }
  | { readonly kind: 'error'; readonly message: string; readonly httpStatus: number | undefined };

export interface ReadRecord {
  readonly kind: 'read';
  readonly scenario: string;
  readonly key: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly observed: ReadObservation;
}

export type ListObservation =
  | { readonly kind: 'keys'; readonly keys: ReadonlySet<string> }
  | { readonly kind: 'error'; readonly message: string; readonly httpStatus: number | undefined };

export interface ListRecord {
  readonly kind: 'list';
  readonly scenario: string;
  readonly prefix: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly observed: ListObservation;
}

export type HistoryRecord = WriteRecord | ReadRecord | ListRecord;

export function nowMs(): number {
  return performance.now();
}

/** Append-only history shared by every worker of every scenario of one cluster. */
export class History {
  private readonly records: HistoryRecord[] = [];
  private readonly writesByKey = new Map<string, WriteRecord[]>();

  add(record: HistoryRecord): void {
    this.records.push(record);
    if (record.kind !== 'write') return;
    const writes = this.writesByKey.get(record.key) ?? [];
    writes.push(record);
    this.writesByKey.set(record.key, writes);
  }

  all(): readonly HistoryRecord[] {
    return this.records;
  }

  keys(): string[] {
    return [...this.writesByKey.keys()];
  }

  writesOf(key: string): readonly WriteRecord[] {
    return this.writesByKey.get(key) ?? [];
  }

  /** Keys whose latest acknowledged state is "present" candidates for overwrite/delete. */
  liveKeys(prefix: string): string[] {
    return this.keys().filter((key) => key.startsWith(prefix) && this.writesOf(key).every((w) => w.sha256 !== undefined));
  }
}
