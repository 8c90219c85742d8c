/**
 * `tessera node ls|add|drain|undrain|remove`: storage node membership through the metadata
 * service. `remove` forgets a node that holds no shards any more (drain it and let the healer
 * move them first); the metadata service refuses otherwise, unless `--force` (the disk is
 * gone: the node is kept as down until the healer has rebuilt its shards elsewhere, then
 * forgotten). A removed node's own registrations and heartbeats are refused (it logs why)
 * until `tessera node add` readmits it.
 */
import { MetadataError, StorageNodeNotEmptyError } from '@tessera/rpc';
import { listNodesFromLeader, operatorMetadataClient } from '../cluster-access';
import { requiredPositional } from '../args';
import type { ParsedArgs } from '../args';
import { CliError, UsageError } from '../errors';
import { formatBytes, renderTable } from '../table';

export interface NodeCommandResult {
  readonly json: unknown;
  readonly text: string;
}

export async function runNodeCommand(args: ParsedArgs, addresses: readonly string[], _nowMs: number): Promise<NodeCommandResult> {
  const [, sub, nodeId] = args.positionals;
  const client = operatorMetadataClient(addresses);
  try {
    switch (sub) {
      case 'ls':
      case undefined: {
        const nodes = await listNodesFromLeader(client, addresses);
        const removed = await client.listRemovedNodes();
        const removedIds = new Set(removed.map((r) => r.nodeId));
        // A node removed with --force stays listed (down) until its shards are rebuilt elsewhere.
        const stateOf = (n: { nodeId: string; state: string }): string => (removedIds.has(n.nodeId) ? `${n.state} (removed, rebuilding)` : n.state);
        const rows = nodes.map((n) => [n.nodeId, n.az, stateOf(n), n.address, formatBytes(n.capacityBytes), formatBytes(n.freeBytes), formatBytes(n.storedBytes)]);
        const listed = new Set(nodes.map((n) => n.nodeId));
        const forgotten = removed.filter((r) => !listed.has(r.nodeId)).map((r) => r.nodeId);
        const table = nodes.length === 0 ? 'no storage nodes registered' : renderTable(['NODE', 'ZONE', 'STATE', 'ADDRESS', 'CAPACITY', 'FREE', 'SHARDS'], rows);
        return { json: { nodes, removed }, text: forgotten.length === 0 ? table : `${table}\nremoved (re-add with tessera node add): ${forgotten.join(', ')}` };
      }
      case 'add': {
        const id = requiredPositional(nodeId, 'tessera node add <node-id> --zone <zone> --address <host:port> [--capacity-bytes <n>]');
        const zone = flag(args, 'zone');
        const address = flag(args, 'address');
        const capacityText = args.flags.get('capacity-bytes') ?? '0';
        if (!/^\d+$/.test(capacityText)) throw new UsageError('--capacity-bytes must be a whole number of bytes');
        const capacityBytes = Number(capacityText);
        // readmit: an operator's add also re-admits a node removed earlier (its own registration cannot).
        const node = await client.registerNode({ nodeId: id, az: zone, address, capacityBytes, freeBytes: capacityBytes, readmit: true });
        return { json: { node }, text: `registered ${node.nodeId} in ${node.az} at ${node.address}: ${node.state}` };
      }
      case 'drain':
      case 'undrain': {
        const id = requiredPositional(nodeId, `tessera node ${sub} <node-id>`);
        const state = sub === 'drain' ? 'draining' : 'up';
        const node = await client.setNodeState({ nodeId: id, state, reason: args.flags.get('reason') ?? `tessera node ${sub}` });
        return { json: { node }, text: `${node.nodeId}: ${node.state}${sub === 'drain' ? ' (no new shards are placed on it)' : ''}` };
      }
      case 'remove': {
        const id = requiredPositional(nodeId, 'tessera node remove <node-id> [--force]');
        const force = args.flags.get('force') === 'true';
        const result = await client.removeNode({ nodeId: id, force, reason: args.flags.get('reason') ?? 'tessera node remove' });
        const text = result.forgotten
          ? `${id}: removed (its heartbeats are refused until tessera node add ${id})`
          : `${id}: removed with --force; ${result.shardCount} shards are rebuilt elsewhere by the healer (the node shows as down until then)`;
        return { json: { removed: result }, text };
      }
      default:
        throw new UsageError(`unknown node command ${JSON.stringify(sub)}: use ls, add, drain, undrain or remove`);
    }
  } catch (err) {
    // The metadata service's refusals (unknown node, removed node, node still holding shards)
    // are operator errors: one line, exit 1. Their messages name the next step.
    if (err instanceof StorageNodeNotEmptyError) throw new CliError(`${err.message} (or --force if its disk is gone)`);
    if (err instanceof MetadataError) throw new CliError(err.message);
    throw err;
  } finally {
    client.close();
  }
}

function flag(args: ParsedArgs, name: string): string {
  const value = args.flags.get(name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}
