import { assert } from '@tessera/common';

/**
 * A Wing–Gong linearizability checker with the improvements of Lowe and of Porcupine
 * (github.com/anishathalye/porcupine): the history is split into independent partitions
 * (for a key-value store, one per key), each searched depth-first over a linked list of call
 * and return events, with a cache of (set of linearized operations, model state) pairs already
 * explored, and a bound on the work so a pathological history yields "unknown" instead of
 * running forever.
 */

/** One completed or pending client operation. Times are any totally ordered numbers. */
export interface HistoryOperation<Input, Output> {
  readonly clientId: number;
  readonly input: Input;
  /** undefined for an operation that never returned (it may or may not have taken effect). */
  readonly output: Output | undefined;
  readonly callTime: number;
  /** Infinity for an operation that never returned. */
  readonly returnTime: number;
}

export interface SequentialModel<State, Input, Output> {
  readonly init: () => State;
  /**
   * Applies `input` to `state`. Returns the new state if `output` is what the sequential
   * specification allows (for `output === undefined`, any outcome is allowed), else undefined.
   */
  readonly step: (state: State, input: Input, output: Output | undefined) => State | undefined;
  /** A string that is equal for equal states (for the cache). */
  readonly stateKey: (state: State) => string;
  /** Splits the history into independently checkable parts (default: one part). */
  readonly partition?: (history: readonly HistoryOperation<Input, Output>[]) => HistoryOperation<Input, Output>[][];
  readonly describe?: (input: Input, output: Output | undefined) => string;
}

export type LinearizabilityResult =
  | { readonly kind: 'linearizable'; readonly stepCount: number }
  | { readonly kind: 'notLinearizable'; readonly partitionIndex: number; readonly explanation: string; readonly stepCount: number }
  /** The work bound was reached before an answer: neither proven nor refuted. */
  | { readonly kind: 'unknown'; readonly partitionIndex: number; readonly stepCount: number };

export interface CheckOptions {
  /** Maximum search steps per partition before giving up with `unknown`. */
  readonly stepCountMax?: number;
}

interface EventNode {
  readonly isCall: boolean;
  readonly operationId: number;
  /** For a call, its return event. */
  match: EventNode | undefined;
  prev: EventNode | undefined;
  next: EventNode | undefined;
}

export function checkLinearizability<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  history: readonly HistoryOperation<Input, Output>[],
  options: CheckOptions = {},
): LinearizabilityResult {
  const partitions = model.partition === undefined ? [history.slice()] : model.partition(history);
  const stepCountMax = options.stepCountMax ?? 5_000_000;
  let totalStepCount = 0;
  for (let partitionIndex = 0; partitionIndex < partitions.length; partitionIndex++) {
    const operations = partitions[partitionIndex];
    assert(operations !== undefined, 'partition present');
    const result = checkPartition(model, operations, stepCountMax);
    totalStepCount += result.stepCount;
    if (result.kind === 'unknown') return { kind: 'unknown', partitionIndex, stepCount: totalStepCount };
    if (result.kind === 'notLinearizable') {
      return { kind: 'notLinearizable', partitionIndex, explanation: result.explanation, stepCount: totalStepCount };
    }
  }
  return { kind: 'linearizable', stepCount: totalStepCount };
}

/** Builds the doubly linked list of events, sorted by time; a head sentinel comes first. */
function buildEvents<Input, Output>(operations: readonly HistoryOperation<Input, Output>[]): EventNode {
  const events: { time: number; isCall: boolean; operationId: number }[] = [];
  operations.forEach((operation, operationId) => {
    assert(operation.callTime < operation.returnTime, 'an operation returns after it is called');
    events.push({ time: operation.callTime, isCall: true, operationId });
    events.push({ time: operation.returnTime, isCall: false, operationId });
  });
  // At equal times a call sorts before a return: the operations are then concurrent, which is
  // the permissive reading.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1) || a.operationId - b.operationId);
  const head: EventNode = { isCall: false, operationId: -1, match: undefined, prev: undefined, next: undefined };
  const callById = new Map<number, EventNode>();
  let tail = head;
  for (const event of events) {
    const node: EventNode = { isCall: event.isCall, operationId: event.operationId, match: undefined, prev: tail, next: undefined };
    tail.next = node;
    tail = node;
    if (event.isCall) callById.set(event.operationId, node);
    else {
      const call = callById.get(event.operationId);
      assert(call !== undefined, 'return follows its call');
      call.match = node;
    }
  }
  return head;
}

/** Removes a call and its return from the list. */
function lift(call: EventNode): void {
  const ret = call.match;
  assert(ret !== undefined, 'call has a return');
  assert(call.prev !== undefined, 'call has a predecessor');
  call.prev.next = call.next;
  if (call.next !== undefined) call.next.prev = call.prev;
  assert(ret.prev !== undefined, 'return has a predecessor');
  ret.prev.next = ret.next;
  if (ret.next !== undefined) ret.next.prev = ret.prev;
}

/** Puts back what `lift` removed (in reverse order). */
function unlift(call: EventNode): void {
  const ret = call.match;
  assert(ret !== undefined && ret.prev !== undefined && call.prev !== undefined, 'lifted call is linked');
  ret.prev.next = ret;
  if (ret.next !== undefined) ret.next.prev = ret;
  call.prev.next = call;
  if (call.next !== undefined) call.next.prev = call;
}

function checkPartition<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  operations: readonly HistoryOperation<Input, Output>[],
  stepCountMax: number,
): { kind: 'linearizable' | 'unknown'; stepCount: number } | { kind: 'notLinearizable'; explanation: string; stepCount: number } {
  const head = buildEvents(operations);
  const cache = new Set<string>();
  const calls: { event: EventNode; state: State }[] = [];
  let linearized = 0n;
  let state = model.init();
  let event = head.next;
  let stepCount = 0;
  let longestPrefix: number[] = [];
  while (head.next !== undefined) {
    stepCount += 1;
    if (stepCount > stepCountMax) return { kind: 'unknown', stepCount };
    assert(event !== undefined, 'the list ends with a return event, never walked past');
    if (event.isCall) {
      const operation = operations[event.operationId];
      assert(operation !== undefined, 'operation present');
      const nextState = model.step(state, operation.input, operation.output);
      if (nextState !== undefined) {
        const nextLinearized = linearized | (1n << BigInt(event.operationId));
        const key = `${nextLinearized.toString(36)}|${model.stateKey(nextState)}`;
        if (!cache.has(key)) {
          cache.add(key);
          calls.push({ event, state });
          state = nextState;
          linearized = nextLinearized;
          lift(event);
          if (calls.length > longestPrefix.length) longestPrefix = calls.map((call) => call.event.operationId);
          event = head.next;
          continue;
        }
      }
      event = event.next;
      continue;
    }
    // A return whose operation is not yet linearized: this ordering fails, backtrack.
    const top = calls.pop();
    if (top === undefined) {
      return { kind: 'notLinearizable', explanation: explain(model, operations, longestPrefix), stepCount };
    }
    state = top.state;
    linearized &= ~(1n << BigInt(top.event.operationId));
    unlift(top.event);
    event = top.event.next;
  }
  return { kind: 'linearizable', stepCount };
}

/**
 * Describes the failure: the longest prefix that could be linearized, and the operations that
 * could have come next (called before the earliest pending return), none of which fits.
 */
function explain<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  operations: readonly HistoryOperation<Input, Output>[],
  longestPrefix: readonly number[],
): string {
  const describe = (id: number): string => {
    const operation = operations[id];
    assert(operation !== undefined, 'operation present');
    const text = model.describe?.(operation.input, operation.output) ?? JSON.stringify({ input: operation.input, output: operation.output });
    return `client ${operation.clientId} [${operation.callTime}, ${operation.returnTime}] ${text}`;
  };
  const inPrefix = new Set(longestPrefix);
  const remaining = operations.map((_, id) => id).filter((id) => !inPrefix.has(id));
  const earliestReturn = Math.min(...remaining.map((id) => operations[id]?.returnTime ?? Infinity));
  const candidates = remaining.filter((id) => (operations[id]?.callTime ?? Infinity) <= earliestReturn);
  const prefix = longestPrefix.map(describe).join('\n  ');
  return `longest linearizable prefix:\n  ${prefix || '(none)'}\nnone of these fits next:\n  ${candidates.map(describe).join('\n  ')}`;
}
