// Goal: the gateway's view of access keys: root never costs a metadata read; a created key is
// read once per TTL (a deleted one stops working within it); an unknown id is remembered as
// unknown for a shorter time; concurrent lookups of one id share one read; ids that cannot be
// keys cost nothing; a metadata outage is ServiceUnavailable (a retry), never InvalidAccessKeyId;
// too many lookups at once are SlowDown.
// Method: MetadataCredentialStore over a counting stand-in for MetadataClient.getAccessKey and a
// hand-driven clock (the real client is exercised by cluster/cluster-access-keys.test.ts).
import type { Clock } from '@tessera/common';
import { NoSuchAccessKeyError } from '@tessera/rpc';
import type { AccessKey__Output } from '@tessera/proto/generated/tessera/metadata/v1/AccessKey';
import { accessKeyCacheTtlMs, accessKeyLookupsInFlightMax, MetadataCredentialStore, unknownAccessKeyCacheTtlMs } from '../src/cluster/metadata-credential-store';
import { S3Error } from '../src/s3-errors';

const root = { accessKeyId: 'TKROOT', secretAccessKey: 'root-secret-0123456789' };

function setup(): { store: MetadataCredentialStore; reads: string[]; keys: Map<string, AccessKey__Output>; advance: (ms: number) => void; fail: (on: boolean) => void; hold: () => () => void } {
  let nowMs = 0;
  const clock: Clock = { nowMs: () => nowMs, monotonicMs: () => nowMs };
  const reads: string[] = [];
  const keys = new Map<string, AccessKey__Output>();
  let failing = false;
  let gate: Promise<void> | undefined;
  const metadata = {
    getAccessKey: async (accessKeyId: string): Promise<AccessKey__Output> => {
      reads.push(accessKeyId);
      if (gate !== undefined) await gate;
      if (failing) throw new Error('UNAVAILABLE: no metadata leader');
      const key = keys.get(accessKeyId);
      if (key === undefined) throw new NoSuchAccessKeyError(accessKeyId);
      return key;
    },
  };
  return {
    store: new MetadataCredentialStore(root, metadata, clock), reads, keys,
    advance: (ms) => (nowMs += ms),
    fail: (on) => (failing = on),
    hold: () => {
      let release = (): void => undefined;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

const alice: AccessKey__Output = { accessKeyId: 'TKALICE', secretAccessKey: 'alice-secret-0123456789', name: 'alice', createdAtMs: 1, canCreateBuckets: false };

test('root costs no read; a key is read once per TTL; a deleted key stops within it; unknown ids are remembered briefly', async () => {
  const { store, reads, keys, advance } = setup();
  expect((await store.lookup('TKROOT'))?.principal).toEqual({ accessKeyId: 'TKROOT', isRoot: true, canCreateBuckets: true });
  keys.set('TKALICE', alice);
  expect(await store.lookup('TKALICE')).toEqual({ secretAccessKey: alice.secretAccessKey, principal: { accessKeyId: 'TKALICE', isRoot: false, canCreateBuckets: false } });
  keys.delete('TKALICE');
  advance(accessKeyCacheTtlMs - 1);
  expect((await store.lookup('TKALICE'))?.secretAccessKey).toBe(alice.secretAccessKey);
  advance(1);
  expect(await store.lookup('TKALICE')).toBeUndefined();
  keys.set('TKALICE', alice);
  advance(unknownAccessKeyCacheTtlMs - 1);
  expect(await store.lookup('TKALICE')).toBeUndefined();
  advance(1);
  expect((await store.lookup('TKALICE'))?.principal.accessKeyId).toBe('TKALICE');
  expect(await store.lookup('not a key!')).toBeUndefined();
  expect(reads).toEqual(['TKALICE', 'TKALICE', 'TKALICE']);
});

test('concurrent lookups share one read; an outage is ServiceUnavailable and not remembered; a flood of new ids is SlowDown', async () => {
  const { store, reads, keys, fail, hold } = setup();
  keys.set('TKALICE', alice);
  const release = hold();
  const both = Promise.all([store.lookup('TKALICE'), store.lookup('TKALICE')]);
  release();
  expect((await both).map((c) => c?.principal.accessKeyId)).toEqual(['TKALICE', 'TKALICE']);
  expect(reads).toEqual(['TKALICE']);

  fail(true);
  const outage = await store.lookup('TKBOB').catch((error: unknown) => error);
  expect(outage).toBeInstanceOf(S3Error);
  expect((outage as S3Error).code).toBe('ServiceUnavailable');
  fail(false);
  expect(await store.lookup('TKBOB')).toBeUndefined();
  expect(reads).toEqual(['TKALICE', 'TKBOB', 'TKBOB']);

  const releaseFlood = hold();
  const flood = Array.from({ length: accessKeyLookupsInFlightMax }, (_, i) => store.lookup(`TKFLOOD${i}`));
  const refused = await store.lookup('TKONEMORE').catch((error: unknown) => error);
  expect((refused as S3Error).code).toBe('SlowDown');
  releaseFlood();
  expect(await Promise.all(flood)).toEqual(Array.from({ length: accessKeyLookupsInFlightMax }, () => undefined));
});
