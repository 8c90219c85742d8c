/**
 * Port checks done before anything is spawned, so a taken port is one clear line naming the
 * port and the option that moves it, instead of a child crashing in a restart loop with a stack
 * trace in its log. The check binds and releases each port; a port taken in between is still
 * caught, later, by the child's own bind error in its log.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { allProcesses } from './cluster-layout';
import type { ClusterLayout } from './cluster-layout';
import { PortInUseError } from './errors';

export function splitHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}

/** Resolves true when `host:port` can be bound right now. */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
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

/** Lowest port of the kernel's ephemeral range (outgoing connections and port-0 listeners). */
function ephemeralPortLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 0) return low;
  } catch {
    // Not Linux: fall through to the IANA dynamic range's start.
  }
  return 49_152;
}

const portBlockLowest = 10_000;

/**
 * Finds `count` consecutive free ports on `host` (for tests and `--ports auto`-like uses): the
 * metadata peers need fixed addresses before they start, so port 0 cannot be used for them.
 * Probes random bases between 10000 and the start of the kernel's ephemeral range (32768 on
 * Linux): a port in that range can be taken between this check and the child's bind by any
 * outgoing connection on the machine, which made a child crash on EADDRINUSE and be restarted
 * when tests ran side by side. The ports are free when checked, not reserved.
 */
export async function findFreePortBlock(host: string, count: number, attemptCountMax = 50): Promise<number> {
  const highest = Math.max(portBlockLowest + count, ephemeralPortLow()) - count;
  for (let attempt = 0; attempt < attemptCountMax; attempt++) {
    const base = portBlockLowest + Math.floor(Math.random() * (highest - portBlockLowest));
    let free = true;
    for (let port = base; port < base + count && free; port++) free = await isPortFree(host, port);
    if (free) return base;
  }
  throw new Error(`no block of ${count} free ports found on ${host}`);
}
