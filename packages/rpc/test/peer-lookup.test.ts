/**
 * Goal: connects to a storage node whose name does not resolve (a stopped container's name
 * that Docker's DNS forwards to an unreachable upstream: 20 s per lookup) never pile up lookups
 * on libuv's 4-thread pool. One lookup per name is in flight, concurrent callers share it, a
 * failure is answered from memory for a while and then retried, and answers respect the
 * caller's family and `all` options as net.connect passes them.
 * Method: the lookup with an injected resolver that counts calls and resolves when told; and
 * net.connect with the real resolver to a real server via "localhost".
 */
import * as net from 'node:net';
import type { LookupAddress } from 'node:dns';
import { createPeerLookup } from '../src/peer-lookup';

function lookupOnce(lookup: ReturnType<typeof createPeerLookup>, hostname: string, options: { all?: boolean; family?: number } = {}): Promise<string | LookupAddress[]> {
  return new Promise((resolve, reject) => lookup(hostname, options, (err, address) => (err === null ? resolve(address) : reject(err))));
}

test('one lookup per name in flight, shared by concurrent callers; a failure is remembered, then retried', async () => {
  let nowMs = 1_000;
  const calls: string[] = [];
  let finish: (result: LookupAddress[] | Error) => void = () => undefined;
  const lookup = createPeerLookup({
    failureTtlMs: 2_000,
    nowMs: () => nowMs,
    resolve: (hostname) => {
      calls.push(hostname);
      return new Promise((resolve, reject) => {
        finish = (result) => (result instanceof Error ? reject(result) : resolve(result));
      });
    },
  });
  const waiting = [lookupOnce(lookup, 'storage-b2'), lookupOnce(lookup, 'storage-b2', { all: true }), lookupOnce(lookup, 'storage-b2')];
  expect(calls).toEqual(['storage-b2']);
  const notFound: NodeJS.ErrnoException = new Error('getaddrinfo EAI_AGAIN storage-b2');
  notFound.code = 'EAI_AGAIN';
  finish(notFound);
  for (const result of await Promise.allSettled(waiting)) expect(result).toMatchObject({ status: 'rejected', reason: { code: 'EAI_AGAIN' } });

  // Within the failure TTL: answered at once, no new lookup.
  nowMs += 1_999;
  await expect(lookupOnce(lookup, 'storage-b2')).rejects.toMatchObject({ code: 'EAI_AGAIN' });
  expect(calls).toEqual(['storage-b2']);
  // After it: looked up again, and a name that now resolves is answered.
  nowMs += 2;
  const retried = lookupOnce(lookup, 'storage-b2', { all: true });
  expect(calls).toEqual(['storage-b2', 'storage-b2']);
  finish([{ address: '10.0.0.7', family: 4 }, { address: 'fd00::7', family: 6 }]);
  expect(await retried).toEqual([{ address: '10.0.0.7', family: 4 }, { address: 'fd00::7', family: 6 }]);
  // Successes are not cached: the next connect looks up again (a restarted container may have a new address).
  const again = lookupOnce(lookup, 'storage-b2', { family: 6 });
  finish([{ address: '10.0.0.8', family: 4 }, { address: 'fd00::8', family: 6 }]);
  expect(await again).toBe('fd00::8');
  expect(calls.length).toBe(3);
});

test('net.connect through the lookup reaches a real server by name', async () => {
  const server = net.createServer((socket) => socket.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const lookup = createPeerLookup();
    const received = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: 'localhost', port, lookup, family: 4 });
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(received).toBe('hello');
  } finally {
    server.close();
  }
});
