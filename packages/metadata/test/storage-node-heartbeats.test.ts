// Goal: the leader commits a storage-node heartbeat only when the catalogue would otherwise be
// wrong or stale (a suspect/down node, capacity or free space moved, the recorded time old),
// and otherwise answers and judges liveness from its memory, never from anything older.
// Method: the pure StorageNodeHeartbeats against hand-built records and times.
import type { StorageNodeRecord } from '../src/model';
import { StorageNodeHeartbeats } from '../src/storage-node-heartbeats';

const gib = 1024 ** 3;
const record = (overrides: Partial<StorageNodeRecord> = {}): StorageNodeRecord => ({
  nodeId: 'sn-1', az: 'az-a', address: '127.0.0.1:1', capacityBytes: 100 * gib, freeBytes: 60 * gib,
  lastHeartbeatAtMs: 1_000_000, state: 'up', stateChangedAtMs: 0, ...overrides,
});

test('an up node whose numbers did not move is remembered, not committed, until the record is 10 s old', () => {
  const heartbeats = new StorageNodeHeartbeats();
  const persisted = record();
  expect(heartbeats.observe('sn-1', { atMs: 1_002_000, capacityBytes: 100 * gib, freeBytes: 60 * gib - 5, storedBytes: 0 }, persisted)).toBe(false);
  expect(heartbeats.observe('sn-1', { atMs: 1_009_999, capacityBytes: 100 * gib, freeBytes: 60 * gib, storedBytes: 0 }, persisted)).toBe(false);
  expect(heartbeats.observe('sn-1', { atMs: 1_010_000, capacityBytes: 100 * gib, freeBytes: 60 * gib, storedBytes: 0 }, persisted)).toBe(true);
});

test('a suspect or down node, a new capacity, or free space moved by 1% of the capacity is committed at once', () => {
  const heartbeats = new StorageNodeHeartbeats();
  const seen = { atMs: 1_001_000, capacityBytes: 100 * gib, freeBytes: 60 * gib, storedBytes: 0 };
  expect(heartbeats.observe('sn-1', seen, record({ state: 'suspect' }))).toBe(true);
  expect(heartbeats.observe('sn-1', seen, record({ state: 'down' }))).toBe(true);
  // Draining is an operator's choice a heartbeat does not change.
  expect(heartbeats.observe('sn-1', seen, record({ state: 'draining' }))).toBe(false);
  expect(heartbeats.observe('sn-1', { ...seen, capacityBytes: 100 * gib + 1 }, record())).toBe(true);
  expect(heartbeats.observe('sn-1', { ...seen, freeBytes: 59 * gib }, record())).toBe(true);
  expect(heartbeats.observe('sn-1', { ...seen, freeBytes: 61 * gib }, record())).toBe(true);
  expect(heartbeats.observe('sn-1', { ...seen, freeBytes: 59 * gib + 1 }, record())).toBe(false);
});

test('overlay: the latest heartbeat seen wins over an older record, never the reverse', () => {
  const heartbeats = new StorageNodeHeartbeats();
  expect(heartbeats.overlay(record())).toEqual(record());
  heartbeats.observe('sn-1', { atMs: 1_004_000, capacityBytes: 100 * gib, freeBytes: 59.5 * gib, storedBytes: 3 * gib }, record());
  expect(heartbeats.overlay(record())).toEqual(record({ lastHeartbeatAtMs: 1_004_000, freeBytes: 59.5 * gib, storedBytes: 3 * gib }));
  // A heartbeat delivered late (an older time) does not move the memory back.
  heartbeats.observe('sn-1', { atMs: 1_003_000, capacityBytes: 100 * gib, freeBytes: 1, storedBytes: 0 }, record());
  expect(heartbeats.overlay(record()).lastHeartbeatAtMs).toBe(1_004_000);
  expect(heartbeats.overlay(record()).freeBytes).toBe(59.5 * gib);
  // A record committed later (another leader, a registration) is newer than this memory.
  const newer = record({ lastHeartbeatAtMs: 1_020_000, freeBytes: 10 * gib });
  expect(heartbeats.overlay(newer)).toEqual(newer);
  // Other nodes are untouched.
  expect(heartbeats.overlay(record({ nodeId: 'sn-2' }))).toEqual(record({ nodeId: 'sn-2' }));
});
