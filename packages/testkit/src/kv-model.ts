import type { HistoryOperation, SequentialModel } from './linearizability';

/** Operations of the key-value register workload (each key is an independent register). */
export type KvInput =
  | { readonly kind: 'read'; readonly key: string }
  | { readonly kind: 'write'; readonly key: string; readonly value: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

/** `read` returns the value (null if never written); `cas` reports whether it swapped. */
export type KvOutput = { readonly kind: 'read'; readonly value: string | null } | { readonly kind: 'write' } | { readonly kind: 'cas'; readonly swapped: boolean };

export type KvOperation = HistoryOperation<KvInput, KvOutput>;

/**
 * The sequential specification of one register, partitioned by key: operations on different
 * keys commute, so each key is checked alone (Porcupine's partitioning), which keeps the search
 * small.
 */
export const kvRegisterModel: SequentialModel<string | null, KvInput, KvOutput> = {
  init: () => null,
  step: (state, input, output) => {
    switch (input.kind) {
      case 'read':
        if (output === undefined) return state;
        return output.kind === 'read' && output.value === state ? state : undefined;
      case 'write':
        return input.value;
      case 'cas': {
        const swaps = state === input.expected;
        if (output !== undefined && (output.kind !== 'cas' || output.swapped !== swaps)) return undefined;
        return swaps ? input.value : state;
      }
    }
  },
  stateKey: (state) => (state === null ? '\u0000' : state),
  partition: (history) => {
    const byKey = new Map<string, KvOperation[]>();
    for (const operation of history) {
      const list = byKey.get(operation.input.key) ?? [];
      list.push(operation);
      byKey.set(operation.input.key, list);
    }
    return [...byKey.keys()].sort().map((key) => byKey.get(key) ?? []);
  },
  describe: (input, output) => {
    const result = output === undefined ? 'pending' : output.kind === 'read' ? JSON.stringify(output.value) : output.kind === 'cas' ? String(output.swapped) : 'ok';
    switch (input.kind) {
      case 'read':
        return `read(${input.key}) -> ${result}`;
      case 'write':
        return `write(${input.key}, ${input.value}) -> ${result}`;
      case 'cas':
        return `cas(${input.key}, ${JSON.stringify(input.expected)} => ${input.value}) -> ${result}`;
    }
  },
};
