/**
 * Port checks done before anything is spawned, so a taken port is one clear line naming the
 * port and the option that moves it, instead of a child crashing in a restart loop with a stack
 * trace in its log. The check binds and releases each port; a port taken in between is still
 * caught, later, by the child's own bind error in its log.
 */
import { isPortFree } from '@tessera/rpc';
import { allProcesses } from './cluster-layout';
import type { ClusterLayout } from './cluster-layout';
import { PortInUseError } from './errors';

export function splitHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}

/** Throws PortInUseError for the first planned address that is taken (gRPC/S3, then metrics). */
export async function checkPortsFree(layout: ClusterLayout, processNames?: ReadonlySet<string>): Promise<void> {
  for (const p of allProcesses(layout)) {
    if (processNames !== undefined && !processNames.has(p.name)) continue;
    const checks: Array<[string, string]> = [[p.listenAddress, p.listenOptionHint]];
    if (p.metricsAddress !== p.listenAddress) checks.push([p.metricsAddress, '--metrics-port-base']);
    for (const [address, hint] of checks) {
      const { host, port } = splitHostPort(address);
      if (!(await isPortFree(host, port))) throw new PortInUseError(address, p.name, hint);
    }
  }
}
