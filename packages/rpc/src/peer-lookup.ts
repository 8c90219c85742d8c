/**
 * Name resolution for connections to cluster peers (storage nodes' shard data connections).
 *
 * `dns.lookup` runs getaddrinfo on libuv's thread pool (4 threads by default, shared with file
 * I/O). A name that resolves nowhere can hold a thread for the resolver's whole timeout: in
 * docker-compose, a stopped container's name goes to Docker's DNS, which forwards it upstream,
 * and with no upstream reachable getaddrinfo gives up after 20 s. If every connect attempt
 * started its own lookup, a few attempts at a stopped node would fill the pool and stall every
 * file operation and every other lookup in the process. So here one lookup per name is in
 * flight at a time, concurrent callers share its answer, and a failure is remembered for
 * `failureTtlMs`, during which connects to that name fail at once.
 */
import * as dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';

/** The `lookup` option of net.connect (the callback takes one address, or all with `all: true`). */
export type ConnectLookup = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

export interface PeerLookupOptions {
  /** How long a failed lookup is answered from memory; default 2000. */
  readonly failureTtlMs?: number;
  /** The resolver (tests inject one); default dns.lookup with `all: true`. */
  readonly resolve?: (hostname: string) => Promise<LookupAddress[]>;
  readonly nowMs?: () => number;
}

export function createPeerLookup(options: PeerLookupOptions = {}): ConnectLookup {
  const failureTtlMs = options.failureTtlMs ?? 2_000;
  const resolve = options.resolve ?? ((hostname: string) => dns.promises.lookup(hostname, { all: true, verbatim: true }));
  const nowMs = options.nowMs ?? Date.now;
  const inFlight = new Map<string, Promise<LookupAddress[]>>();
  const failures = new Map<string, { readonly error: NodeJS.ErrnoException; readonly untilMs: number }>();

  const addressesOf = (hostname: string): Promise<LookupAddress[]> => {
    const failure = failures.get(hostname);
    if (failure !== undefined) {
      if (nowMs() < failure.untilMs) return Promise.reject(failure.error);
      failures.delete(hostname);
    }
    let pending = inFlight.get(hostname);
    if (pending === undefined) {
      pending = resolve(hostname).then(
        (addresses) => {
          inFlight.delete(hostname);
          if (addresses.length === 0) throw lookupError(hostname, 'ENOTFOUND', 'no addresses');
          return addresses;
        },
        (err: unknown) => {
          inFlight.delete(hostname);
          const error = err instanceof Error ? (err as NodeJS.ErrnoException) : lookupError(hostname, 'ENOTFOUND', String(err));
          failures.set(hostname, { error, untilMs: nowMs() + failureTtlMs });
          throw error;
        },
      );
      inFlight.set(hostname, pending);
    }
    return pending;
  };

  return (hostname, lookupOptions, callback) => {
    addressesOf(hostname).then(
      (addresses) => {
        const family = lookupOptions.family === 4 || lookupOptions.family === 'IPv4' ? 4 : lookupOptions.family === 6 || lookupOptions.family === 'IPv6' ? 6 : 0;
        const usable = family === 0 ? addresses : addresses.filter((address) => address.family === family);
        if (usable.length === 0) {
          callback(lookupError(hostname, 'ENOTFOUND', `no IPv${family} address`), lookupOptions.all === true ? [] : '');
          return;
        }
        if (lookupOptions.all === true) callback(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, lookupOptions.all === true ? [] : ''),
    );
  };
}

function lookupError(hostname: string, code: string, detail: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`getaddrinfo ${code} ${hostname} (${detail})`);
  error.code = code;
  return error;
}
