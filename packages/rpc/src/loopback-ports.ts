/**
 * Free loopback ports for servers that must be named before they start: Raft peers list each
 * other's addresses, and a stopped node restarts on its old one. Used by tests, benchmarks and
 * `tessera start`'s port checks.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';

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
