// Goal: the Wing–Gong/Porcupine checker accepts exactly the linearizable histories. Method:
// hand-written classic histories with known answers (including pending operations and
// compare-and-set), a property test that histories built from a real sequential execution
// (each operation takes effect at a point inside its interval) are always accepted, and that
// a read of a value nobody wrote is always refused; plus the work bound and partitioning.
import fc from 'fast-check';
import type { KvInput, KvOperation, KvOutput } from '@tessera/testkit';
import { checkLinearizability, kvRegisterModel } from '@tessera/testkit';

function op(clientId: number, callTime: number, returnTime: number, input: KvInput, output: KvOutput | undefined): KvOperation {
  return { clientId, callTime, returnTime, input, output };
}
const write = (key: string, value: string): KvInput => ({ kind: 'write', key, value });
const read = (key: string): KvInput => ({ kind: 'read', key });
const cas = (key: string, expected: string | null, value: string): KvInput => ({ kind: 'cas', key, expected, value });
const wrote: KvOutput = { kind: 'write' };
const got = (value: string | null): KvOutput => ({ kind: 'read', value });
const swapped = (ok: boolean): KvOutput => ({ kind: 'cas', swapped: ok });

describe('linearizability checker (known histories)', () => {
  test('sequential write then read of that value is linearizable', () => {
    const history = [op(0, 1, 2, write('x', 'a'), wrote), op(1, 3, 4, read('x'), got('a'))];
    expect(checkLinearizability(kvRegisterModel, history).kind).toBe('linearizable');
  });

  test('a read after a completed write that returns the old value is not linearizable (stale read)', () => {
    const history = [op(0, 1, 2, write('x', 'a'), wrote), op(1, 3, 4, read('x'), got(null))];
    const result = checkLinearizability(kvRegisterModel, history);
    expect(result.kind).toBe('notLinearizable');
    if (result.kind === 'notLinearizable') expect(result.explanation).toContain('read(x) -> null');
  });

  test('a read concurrent with a write may return either value', () => {
    for (const value of [null, 'a']) {
      const history = [op(0, 1, 4, write('x', 'a'), wrote), op(1, 2, 3, read('x'), got(value))];
      expect(checkLinearizability(kvRegisterModel, history).kind).toBe('linearizable');
    }
  });

  test('two reads that observe the write in opposite orders are not linearizable', () => {
    // Reader 1 sees the new value and finishes; reader 2 starts later and sees the old one.
    const history = [
      op(0, 1, 10, write('x', 'a'), wrote),
      op(1, 2, 3, read('x'), got('a')),
      op(2, 4, 5, read('x'), got(null)),
    ];
    expect(checkLinearizability(kvRegisterModel, history).kind).toBe('notLinearizable');
  });

  test('compare-and-set: at most one of two concurrent CAS from the same value succeeds', () => {
    const both = [
      op(0, 1, 2, write('x', 'v0'), wrote),
      op(1, 3, 6, cas('x', 'v0', 'a'), swapped(true)),
      op(2, 4, 5, cas('x', 'v0', 'b'), swapped(true)),
    ];
    expect(checkLinearizability(kvRegisterModel, both).kind).toBe('notLinearizable');
    const one = [both[0], both[1], op(2, 4, 5, cas('x', 'v0', 'b'), swapped(false))].filter((o): o is KvOperation => o !== undefined);
    expect(checkLinearizability(kvRegisterModel, one).kind).toBe('linearizable');
  });

  test('a pending write may take effect at any point after its call, or never', () => {
    const seen = [op(0, 1, Infinity, write('x', 'a'), undefined), op(1, 5, 6, read('x'), got('a'))];
    expect(checkLinearizability(kvRegisterModel, seen).kind).toBe('linearizable');
    const notSeen = [op(0, 1, Infinity, write('x', 'a'), undefined), op(1, 5, 6, read('x'), got(null))];
    expect(checkLinearizability(kvRegisterModel, notSeen).kind).toBe('linearizable');
    const beforeCall = [op(1, 1, 2, read('x'), got('a')), op(0, 3, Infinity, write('x', 'a'), undefined)];
    expect(checkLinearizability(kvRegisterModel, beforeCall).kind).toBe('notLinearizable');
  });

  test('keys are checked independently (a violation on one key is found among many)', () => {
    const history: KvOperation[] = [];
    let time = 0;
    for (let i = 0; i < 50; i++) {
      history.push(op(0, ++time, ++time, write(`k${i}`, 'v'), wrote));
      history.push(op(1, ++time, ++time, read(`k${i}`), got('v')));
    }
    expect(checkLinearizability(kvRegisterModel, history).kind).toBe('linearizable');
    history.push(op(1, ++time, ++time, read('k7'), got('never written')));
    const result = checkLinearizability(kvRegisterModel, history);
    expect(result.kind).toBe('notLinearizable');
  });

  test('the work bound turns a hopeless search into "unknown" instead of running forever', () => {
    // Many fully concurrent writes and a read of a value nobody wrote: refuting it needs to
    // try every order of the writes (the cache keeps it finite, the bound keeps it short).
    const history: KvOperation[] = [];
    for (let i = 0; i < 18; i++) history.push(op(i, 1 + i, 1000, write('x', `w${i}`), wrote));
    history.push(op(99, 500, 600, read('x'), got('nobody')));
    expect(checkLinearizability(kvRegisterModel, history, { stepCountMax: 1000 }).kind).toBe('unknown');
  });
});

describe('linearizability checker (properties)', () => {
  /** A random sequential execution, with intervals stretched around each linearization point. */
  const execution = fc
    .array(
      fc.record({
        kind: fc.constantFrom('read', 'write', 'cas'),
        key: fc.constantFrom('x', 'y'),
        value: fc.constantFrom('a', 'b', 'c'),
        expected: fc.constantFrom(null, 'a', 'b'),
        stretchBefore: fc.nat(6),
        stretchAfter: fc.nat(6),
        pending: fc.boolean(),
        client: fc.nat(3),
      }),
      { maxLength: 40 },
    )
    .map((steps) => {
      const state = new Map<string, string | null>();
      return steps.map((step, position) => {
        const point = (position + 1) * 10;
        const current = state.get(step.key) ?? null;
        let input: KvInput;
        let output: KvOutput;
        if (step.kind === 'read') {
          input = read(step.key);
          output = got(current);
        } else if (step.kind === 'write') {
          input = write(step.key, step.value);
          output = wrote;
          state.set(step.key, step.value);
        } else {
          input = cas(step.key, step.expected, step.value);
          output = swapped(current === step.expected);
          if (current === step.expected) state.set(step.key, step.value);
        }
        const isPending = step.pending && step.kind !== 'read';
        return op(step.client, point - step.stretchBefore, isPending ? Infinity : point + 1 + step.stretchAfter, input, isPending ? undefined : output);
      });
    });

  test('a history produced by a sequential execution is always linearizable', () => {
    fc.assert(
      fc.property(execution, (history) => {
        expect(checkLinearizability(kvRegisterModel, history).kind).toBe('linearizable');
      }),
      { numRuns: 300 },
    );
  });

  test('adding a read of a value never written makes it non-linearizable', () => {
    fc.assert(
      fc.property(execution, fc.nat(500), (history, time) => {
        const corrupted = [...history, op(9, time, time + 1, read('x'), got('never'))];
        expect(checkLinearizability(kvRegisterModel, corrupted).kind).toBe('notLinearizable');
      }),
      { numRuns: 300 },
    );
  });
});
