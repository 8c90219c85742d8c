/**
 * `tessera node ls|add|drain|undrain|remove`: storage node membership through the metadata
 * service. `remove` marks the node down for placement; the metadata service has no "forget this
 * node" operation yet, so the record stays, and a node that heartbeats again comes back up:
 * stop the process before removing it.
 */
import { MetadataClient } from '@tessera/rpc';
import type { ParsedArgs } from '../args';
import { CliError, UsageError } from '../errors';
import { formatBytes, renderTable } from '../table';

export interface NodeCommandResult {
  readonly json: unknown;
  readonly text: string;
}

/** A node heard from this recently is taken to be running: removing it needs --force. */
const recentHeartbeatMs = 15_000;

export async function runNodeCommand(args: ParsedArgs, addresses: readonly string[], nowMs: number): Promise<NodeCommandResult> {
  const [, sub, nodeId] = args.positionals;
  const client = new MetadataClient({ addresses, callTimeoutMs: 5_000, attemptCountMax: Math.max(3, addresses.length * 2) });
  try {
    switch (sub) {
      case 'ls':
      case undefined: {
        const nodes = await client.listNodes();
        const rows = nodes.map((n) => [n.nodeId, n.az, n.state, n.address, formatBytes(n.capacityBytes), formatBytes(Math.max(0, n.capacityBytes - n.freeBytes))]);
        return { json: { nodes }, text: nodes.length === 0 ? 'no storage nodes registered' : renderTable(['NODE', 'ZONE', 'STATE', 'ADDRESS', 'CAPACITY', 'USED'], rows) };
      }
      case 'add': {
        const id = required(nodeId, 'tessera node add <node-id> --zone <zone> --address <host:port> [--capacity-bytes <n>]');
        const zone = flag(args, 'zone');
        const address = flag(args, 'address');
        const capacityText = args.flags.get('capacity-bytes') ?? '0';
        if (!/^\d+$/.test(capacityText)) throw new UsageError('--capacity-bytes must be a whole number of bytes');
        const capacityBytes = Number(capacityText);
        const node = await client.registerNode({ nodeId: id, az: zone, address, capacityBytes, freeBytes: capacityBytes });
        return { json: { node }, text: `registered ${node.nodeId} in ${node.az} at ${node.address}: ${node.state}` };
      }
      case 'drain':
      case 'undrain': {
        const id = required(nodeId, `tessera node ${sub} <node-id>`);
        const state = sub === 'drain' ? 'draining' : 'up';
        const node = await client.setNodeState({ nodeId: id, state, reason: args.flags.get('reason') ?? `tessera node ${sub}` });
        return { json: { node }, text: `${node.nodeId}: ${node.state}${sub === 'drain' ? ' (no new shards are placed on it)' : ''}` };
      }
      case 'remove': {
        const id = required(nodeId, 'tessera node remove <node-id> [--force]');
        const current = (await client.listNodes()).find((n) => n.nodeId === id);
        if (current === undefined) throw new CliError(`no storage node ${id}`);
        const silentMs = nowMs - current.lastHeartbeatAtMs;
        if (silentMs < recentHeartbeatMs && args.flags.get('force') !== 'true') {
          throw new CliError(`${id} heartbeated ${Math.max(0, Math.round(silentMs / 1000))}s ago, so it is still running: drain it and stop its process first, or pass --force`);
        }
        const node = await client.setNodeState({ nodeId: id, state: 'down', reason: args.flags.get('reason') ?? 'removed by operator' });
        return { json: { node }, text: `${node.nodeId}: ${node.state} (excluded from placement; its record stays until the metadata service can forget nodes)` };
      }
      default:
        throw new UsageError(`unknown node command ${JSON.stringify(sub)}: use ls, add, drain, undrain or remove`);
    }
  } finally {
    client.close();
  }
}

function required(value: string | undefined, usage: string): string {
  if (value === undefined || value === '') throw new UsageError(`usage: ${usage}`);
  return value;
}

function flag(args: ParsedArgs, name: string): string {
  const value = args.flags.get(name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}
