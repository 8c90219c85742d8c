// Goal: removing a storage node is real membership: refused while the catalogue still places
// shards on it (with the count and the next step in the message), forced for a node whose disk
// is gone (kept `down` so the healer rebuilds its shards like a lost node's, forgotten once
// nothing is placed there), and a removed node can neither re-register nor heartbeat itself
// back in until an operator readmits it. Method: a real CatalogueStateMachine over LevelDB in a
// temp dir, commands through the Raft wire format; the healer's move is a replaceShards.
import { NoSuchStorageNodeError, ShardsNotPlacedError, StorageNodeNotEmptyError, StorageNodeRemovedError } from '@tessera/rpc';
import type { RemoveNodeResult } from '../src/catalogue-state-machine';
import type { Command, StampedCommand } from '../src/commands';
import type { TempCatalogue } from './helpers';
import { applyOk, applyRefused, openTempCatalogue, putInline, registerNodes, stripe } from './helpers';

let cat: TempCatalogue;
beforeEach(async () => {
  cat = await openTempCatalogue({ partSizeBytesMin: 10 });
  for (const command of registerNodes(['sn-1', 'sn-2', 'sn-3', 'sn-4'])) await ok(command);
  await ok({ type: 'createBucket', bucket: 'data', owner: 'alice', createdAtMs: 1 });
});
afterEach(async () => {
  await cat.close();
});

const ok = (command: StampedCommand): Promise<unknown> => applyOk(cat, command);
const refusal = (command: StampedCommand): Promise<Error> => applyRefused(cat, command);

const remove = (nodeId: string, force = false): Command => ({ type: 'removeNode', nodeId, force, reason: 'test', removedAtMs: 50 });
const heartbeat = (nodeId: string): Command => ({ type: 'heartbeat', nodeId, capacityBytes: 100, freeBytes: 50, heartbeatAtMs: 60 });
const register = (nodeId: string, readmit = false): Command => ({
  type: 'registerNode', nodeId, az: 'az-9', address: '127.0.0.1:9999', capacityBytes: 100, freeBytes: 100, registeredAtMs: 70, ...(readmit ? { readmit } : {}),
});
const putStriped = (key: string, stripeId: string, nodeIds: string[], writeId?: string): Command => ({
  ...putInline('data', key, '', stripeId), inlineData: undefined, sizeBytes: 10, stripe: stripe(stripeId, nodeIds), ...(writeId === undefined ? {} : { writeId }),
});

test('a node holding shards is not removed; the message names the count and the way out', async () => {
  await ok(putStriped('a', 's-a', ['sn-1', 'sn-2', 'sn-3']));
  await ok(putStriped('b', 's-b', ['sn-3', 'sn-1', 'sn-2']));
  const error = await refusal(remove('sn-1'));
  expect(error).toBeInstanceOf(StorageNodeNotEmptyError);
  expect(error.message).toBe('node sn-1 still holds 2 shards; drain it first (tessera node drain sn-1) and wait for the healer');
  expect((await cat.machine.getNode('sn-1')).state).toBe('up');
  expect(await cat.machine.listRemovedNodes()).toEqual([]);
});

test('an empty node is forgotten, refused on heartbeat and re-registration, and readmitted by an operator', async () => {
  const result = (await ok(remove('sn-4'))) as RemoveNodeResult;
  expect(result).toEqual({ nodeId: 'sn-4', shardCount: 0, forgotten: true });
  expect((await cat.machine.listNodes()).map((n) => n.nodeId)).toEqual(['sn-1', 'sn-2', 'sn-3']);
  const beat = await refusal(heartbeat('sn-4'));
  expect(beat).toBeInstanceOf(StorageNodeRemovedError);
  expect(beat.message).toContain('was removed from the cluster');
  expect(beat.message).toContain('tessera node add sn-4');
  expect(await refusal(register('sn-4'))).toBeInstanceOf(StorageNodeRemovedError);
  expect(await refusal({ type: 'setNodeState', nodeId: 'sn-4', state: 'up', changedAtMs: 80, reason: 'x' })).toBeInstanceOf(StorageNodeRemovedError);
  expect((await cat.machine.listNodes()).map((n) => n.nodeId)).not.toContain('sn-4');
  // `tessera node add` readmits it; from then on its own registration and heartbeats work again.
  await ok(register('sn-4', true));
  expect(await cat.machine.listRemovedNodes()).toEqual([]);
  await ok(heartbeat('sn-4'));
  expect((await cat.machine.getNode('sn-4')).state).toBe('up');
  // Removing an unknown node says so.
  expect(await refusal(remove('sn-nope'))).toBeInstanceOf(NoSuchStorageNodeError);
});

test('--force on a node with shards: kept down for the healer, forgotten once its shards have moved', async () => {
  await ok(putStriped('a', 's-a', ['sn-1', 'sn-2', 'sn-3']));
  await ok(putStriped('b', 's-b', ['sn-2', 'sn-3', 'sn-1']));
  const result = (await ok(remove('sn-1', true))) as RemoveNodeResult;
  expect(result).toEqual({ nodeId: 'sn-1', shardCount: 2, forgotten: false });
  // Down like a lost node: the heal backlog (what the healer works from) counts its shards.
  expect((await cat.machine.getNode('sn-1')).state).toBe('down');
  expect(await cat.machine.healBacklog()).toMatchObject({ stripeCount: 2, shardCount: 2 });
  expect(await refusal(heartbeat('sn-1'))).toBeInstanceOf(StorageNodeRemovedError);
  expect(await cat.machine.listRemovedNodes()).toEqual([{ nodeId: 'sn-1', removedAtMs: 50, forced: true, reason: 'test' }]);
  // The healer moves one shard; the node is still placed on (the other one), so it stays.
  await ok({ type: 'replaceShards', owner: { kind: 'object', bucket: 'data', key: 'a' }, stripeId: 's-a', changes: [{ shardIndex: 0, fromNodeId: 'sn-1', toNodeId: 'sn-4' }], degradedSpread: undefined, replacedAtMs: 90 });
  expect(await refusal(remove('sn-1'))).toBeInstanceOf(StorageNodeNotEmptyError);
  // The other object is deleted: nothing is placed on sn-1 any more, and the (housekeeping) removal forgets it.
  await ok({ type: 'deleteObject', bucket: 'data', key: 'b', deletedAtMs: 95 });
  expect(await ok(remove('sn-1'))).toEqual({ nodeId: 'sn-1', shardCount: 0, forgotten: true });
  expect((await cat.machine.listNodes()).map((n) => n.nodeId)).toEqual(['sn-2', 'sn-3', 'sn-4']);
  expect((await cat.machine.listRemovedNodes()).map((r) => [r.nodeId, r.forced])).toEqual([['sn-1', true]]);
  expect(await cat.machine.healBacklog()).toMatchObject({ stripeCount: 0, shardCount: 0 });
});

test('a write whose stripe names a removed node cannot commit (its shards would be unreachable)', async () => {
  await ok({ type: 'beginWrite', bucket: 'data', key: 'late', writeId: 'w-late', stripe: stripe('w-late', ['sn-2', 'sn-3', 'sn-4']), startedAtMs: 5 });
  await ok(remove('sn-4'));
  expect(await refusal(putStriped('late', 'w-late', ['sn-2', 'sn-3', 'sn-4'], 'w-late'))).toBeInstanceOf(ShardsNotPlacedError);
});
