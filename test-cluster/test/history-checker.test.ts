// Goal: the history checker accepts exactly the histories it should (Jepsen-style register and
// set rules, with 'maybe' writes allowed but never required) and flags lost, stale, corrupt,
// missing and phantom results. Method: hand-written histories for each rule, plus a fast-check
// property comparing allowedWrites with a naive enumeration of the sequential orders a
// non-overlapping history permits.
import fc from 'fast-check';
import { allowedWrites, checkHistory, History } from '../src/index';
import type { ReadObservation, WriteRecord } from '../src/index';

function write(key: string, sha256: string | undefined, startMs: number, endMs: number, outcome: 'ok' | 'maybe' = 'ok'): WriteRecord {
  return { kind: 'write', scenario: 's', key, sha256, sizeBytes: 1, multipart: false, startMs, endMs, outcome };
}

function read(history: History, key: string, startMs: number, endMs: number, observed: ReadObservation): void {
  history.add({ kind: 'read', scenario: 's', key, startMs, endMs, observed });
}

const value = (sha256: string): ReadObservation => ({ kind: 'value', sha256, sizeBytes: 1 });

describe('history checker', () => {
  test('read after an acknowledged write must return it; an older value is lost (stale), a foreign one corrupt', () => {
    const history = new History();
    history.add(write('k', 'a', 0, 10));
    history.add(write('k', 'b', 20, 30));
    read(history, 'k', 40, 50, value('b'));
    read(history, 'k', 40, 50, value('a'));
    read(history, 'k', 40, 50, { kind: 'absent' });
    read(history, 'k', 40, 50, value('zz'));
    const result = checkHistory(history);
    expect(result.readCount).toBe(4);
    expect(result.violations.map((v) => v.kind)).toEqual(['lost', 'lost', 'corrupt']);
    expect(result.violations[0]?.detail).toContain('stale');
  });

  test('a read concurrent with a write may return either value', () => {
    const history = new History();
    history.add(write('k', 'a', 0, 10));
    history.add(write('k', 'b', 20, 30));
    read(history, 'k', 25, 35, value('a'));
    read(history, 'k', 25, 35, value('b'));
    read(history, 'k', 5, 8, { kind: 'absent' });
    expect(checkHistory(history).violations).toEqual([]);
  });

  test('a maybe write is allowed at any later time but never required', () => {
    const history = new History();
    history.add(write('k', 'a', 0, 10));
    history.add(write('k', 'm', 20, 30, 'maybe'));
    history.add(write('k', 'c', 40, 50));
    read(history, 'k', 35, 36, value('a'));
    read(history, 'k', 35, 36, value('m'));
    read(history, 'k', 60, 70, value('m'));
    read(history, 'k', 60, 70, value('c'));
    read(history, 'k', 60, 70, value('a'));
    const violations = checkHistory(history).violations;
    expect(violations).toHaveLength(1);
    expect(violations[0]?.kind).toBe('lost');
  });

  test('delete: absent after an acknowledged delete; errors are unavailable, not violations', () => {
    const history = new History();
    history.add(write('k', 'a', 0, 10));
    history.add(write('k', undefined, 20, 30));
    read(history, 'k', 40, 50, { kind: 'absent' });
    read(history, 'k', 40, 50, { kind: 'error', message: 'ServiceUnavailable', httpStatus: 503 });
    const result = checkHistory(history);
    expect(result.violations).toEqual([]);
    expect(result.unavailableCount).toBe(1);
  });

  test('list-after-write: acknowledged keys must be listed, phantom keys must not', () => {
    const history = new History();
    history.add(write('p/a', 'a', 0, 10));
    history.add(write('p/b', 'b', 0, 10));
    history.add(write('p/b', undefined, 30, 45));
    history.add(write('p/c', 'c', 35, 60));
    history.add({ kind: 'list', scenario: 's', prefix: 'p/', startMs: 40, endMs: 50, observed: { kind: 'keys', keys: new Set(['p/x']) } });
    const kinds = checkHistory(history).violations.map((v) => `${v.kind}:${v.key}`);
    expect(kinds.sort()).toEqual(['list-missing:p/a', 'list-phantom:p/x']);
  });

  test('property: for sequential histories exactly the last acknowledged value is allowed', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom('ok', 'maybe'), { minLength: 1, maxLength: 8 }), (outcomes) => {
      const writes = outcomes.map((o, i) => write('k', `v${i}`, i * 10, i * 10 + 5, o as 'ok' | 'maybe'));
      const allowed = new Set(allowedWrites(writes, 1_000, 1_001).map((w) => w.sha256 ?? 'absent'));
      const lastOkIndex = outcomes.lastIndexOf('ok');
      // Naive reference: the last ok write (the initial absent state when there is none), plus
      // every maybe write, before or after it, since an unknown outcome may apply at any time.
      const expected = new Set<string>(lastOkIndex < 0 ? ['absent'] : [`v${lastOkIndex}`]);
      outcomes.forEach((o, i) => { if (o === 'maybe') expected.add(`v${i}`); });
      expect([...allowed].sort()).toEqual([...expected].sort());
    }));
  });
});
