import { assert } from './assert';

/**
 * Branded integers for numbers that are costly to mix up. Each constructor asserts the range,
 * so a value of the branded type is always a non-negative safe integer.
 */
export type Brand<T, B extends string> = T & { readonly __brand: B };

export type Term = Brand<number, 'Term'>;
export type LogIndex = Brand<number, 'LogIndex'>;
export type ShardIndex = Brand<number, 'ShardIndex'>;

function nonNegativeInteger(value: number, what: string): void {
  assert(Number.isSafeInteger(value), `${what} must be a safe integer, got ${value}`);
  assert(value >= 0, `${what} must be >= 0, got ${value}`);
}

export function term(value: number): Term {
  nonNegativeInteger(value, 'Term');
  return value as Term;
}

export function logIndex(value: number): LogIndex {
  nonNegativeInteger(value, 'LogIndex');
  return value as LogIndex;
}

export function shardIndex(value: number): ShardIndex {
  nonNegativeInteger(value, 'ShardIndex');
  return value as ShardIndex;
}
