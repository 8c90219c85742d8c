/**
 * The history checker (in the spirit of Jepsen's register and set checks, without search):
 *
 * - Read-after-write: a read of key K may return value V only if some write of V to K (the
 *   initial "absent" counts as a write at -infinity) was invoked before the read completed and
 *   was not certainly superseded before the read was invoked, i.e. there is no `ok` write W2 of
 *   K invoked after V's write completed and completed before the read was invoked. A `maybe`
 *   write never completes for this purpose (it may apply late), so it is never superseded and
 *   never supersedes.
 * - List-after-write: a listing invoked at t must contain every key with an `ok` PUT completed
 *   before t and no DELETE (of any outcome) invoked before the listing completed, and must not
 *   contain a key that no PUT was ever invoked for.
 *
 * A read that violates the first rule is `lost` when it returned nothing or an older value of K,
 * and `corrupt` when it returned bytes no write of K ever carried. Errors are `unavailable`, not
 * violations (availability is judged by the scenario).
 */
import type { History, ListRecord, ReadRecord, WriteRecord } from './history';

export interface Violation {
  readonly kind: 'lost' | 'corrupt' | 'list-missing' | 'list-phantom';
  readonly scenario: string;
  readonly key: string;
  readonly detail: string;
}

export interface CheckResult {
  readonly readCount: number;
  readonly listCount: number;
  readonly unavailableCount: number;
  readonly violations: readonly Violation[];
}

const initialAbsent: WriteRecord = {
  kind: 'write', scenario: 'initial', key: '', sha256: undefined, sizeBytes: 0, multipart: false,
  startMs: Number.NEGATIVE_INFINITY, endMs: Number.NEGATIVE_INFINITY, outcome: 'ok',
};

function effectiveEndMs(write: WriteRecord): number {
  return write.outcome === 'ok' ? write.endMs : Number.POSITIVE_INFINITY;
}

/** The writes whose value a read over [startMs, endMs] may legally return. */
export function allowedWrites(writes: readonly WriteRecord[], startMs: number, endMs: number): WriteRecord[] {
  const candidates = [initialAbsent, ...writes];
  return candidates.filter((w) => {
    if (w.startMs > endMs) return false;
    const wEndMs = effectiveEndMs(w);
    return !writes.some((w2) => w2.outcome === 'ok' && w2.startMs > wEndMs && w2.endMs < startMs);
  });
}

export function checkRead(read: ReadRecord, writes: readonly WriteRecord[]): Violation | undefined {
  if (read.observed.kind === 'error') return undefined;
  const observedSha = read.observed.kind === 'value' ? read.observed.sha256 : undefined;
  const allowed = allowedWrites(writes, read.startMs, read.endMs);
  if (allowed.some((w) => w.sha256 === observedSha)) return undefined;
  const base = { scenario: read.scenario, key: read.key };
  if (observedSha === undefined) return { ...base, kind: 'lost', detail: 'read returned no object where an acknowledged value was required' };
  if (writes.some((w) => w.sha256 === observedSha)) return { ...base, kind: 'lost', detail: `stale read: ${observedSha.slice(0, 12)} had been superseded` };
  return { ...base, kind: 'corrupt', detail: `read returned sha256 ${observedSha.slice(0, 12)} that no write of this key carried` };
}

export function checkList(list: ListRecord, history: History): Violation[] {
  if (list.observed.kind === 'error') return [];
  const listed = list.observed.keys;
  const violations: Violation[] = [];
  for (const key of history.keys()) {
    if (!key.startsWith(list.prefix)) continue;
    const writes = history.writesOf(key);
    const acknowledgedPut = writes.some((w) => w.sha256 !== undefined && w.outcome === 'ok' && w.endMs < list.startMs);
    const deleteInvoked = writes.some((w) => w.sha256 === undefined && w.startMs < list.endMs);
    if (acknowledgedPut && !deleteInvoked && !listed.has(key)) {
      violations.push({ kind: 'list-missing', scenario: list.scenario, key, detail: `acknowledged key missing from a listing of "${list.prefix}"` });
    }
  }
  for (const key of listed) {
    const putInvoked = history.writesOf(key).some((w) => w.sha256 !== undefined && w.startMs < list.endMs);
    if (!putInvoked) violations.push({ kind: 'list-phantom', scenario: list.scenario, key, detail: 'listed key was never written' });
  }
  return violations;
}

/** Checks every read and list of `history` (optionally only those of one scenario). */
export function checkHistory(history: History, scenario?: string): CheckResult {
  let readCount = 0;
  let listCount = 0;
  let unavailableCount = 0;
  const violations: Violation[] = [];
  for (const record of history.all()) {
    if (scenario !== undefined && record.scenario !== scenario) continue;
    if (record.kind === 'read') {
      readCount++;
      if (record.observed.kind === 'error') unavailableCount++;
      const violation = checkRead(record, history.writesOf(record.key));
      if (violation !== undefined) violations.push(violation);
    } else if (record.kind === 'list') {
      listCount++;
      if (record.observed.kind === 'error') unavailableCount++;
      violations.push(...checkList(record, history));
    }
  }
  return { readCount, listCount, unavailableCount, violations };
}
