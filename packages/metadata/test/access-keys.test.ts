// Goal: access keys and bucket grants as the catalogue keeps them: a key is created once (its
// id never reused), read back with its secret, listed; a grant needs an existing key and bucket,
// is replaced by the next one for the same key, and goes when read and write are both false;
// a key that owns buckets is deleted only with force, and its grants go with it; bad ids and
// secrets never reach the log.
// Method: commands applied to a real CatalogueStateMachine over LevelDB (the apply path every
// replica runs), and validateCommand as the service runs it before proposing.
import { AccessKeyExistsError, AccessKeyOwnsBucketsError, InvalidArgumentError, NoSuchAccessKeyError, NoSuchBucketError } from '@tessera/rpc';
import { validateCommand } from '../src/commands';
import type { TempCatalogue } from './helpers';
import { applyOk, applyRefused, openTempCatalogue } from './helpers';

const alice = { accessKeyId: 'TKALICE0000000000001', secretAccessKey: 'alice-secret-0123456789abcdefghijklmnopq' };
const bob = { accessKeyId: 'TKBOB00000000000001', secretAccessKey: 'bob-secret-0123456789abcdefghijklmnopqrs' };

let cat: TempCatalogue;
beforeEach(async () => {
  cat = await openTempCatalogue();
});
afterEach(async () => {
  await cat.close();
});

test('a key is created once, read with its secret, listed; a second create of the id is refused', async () => {
  await applyOk(cat, { type: 'createAccessKey', ...alice, name: 'alice', createdAtMs: 5, canCreateBuckets: true });
  expect(await cat.machine.getAccessKey(alice.accessKeyId)).toEqual({ ...alice, name: 'alice', createdAtMs: 5, canCreateBuckets: true });
  expect(await applyRefused(cat, { type: 'createAccessKey', ...alice, secretAccessKey: 'another-secret-0123456789', name: 'x', createdAtMs: 6, canCreateBuckets: false }))
    .toBeInstanceOf(AccessKeyExistsError);
  await applyOk(cat, { type: 'createAccessKey', ...bob, name: 'bob', createdAtMs: 7, canCreateBuckets: false });
  expect((await cat.machine.listAccessKeys()).map((key) => [key.accessKeyId, key.name, key.canCreateBuckets])).toEqual([
    [alice.accessKeyId, 'alice', true], [bob.accessKeyId, 'bob', false],
  ]);
  await expect(cat.machine.getAccessKey('TKNOBODY')).rejects.toBeInstanceOf(NoSuchAccessKeyError);
});

test('grants: need the key and the bucket, replace the previous one, go when empty; never for the owner', async () => {
  await applyOk(cat, { type: 'createAccessKey', ...alice, name: 'alice', createdAtMs: 1, canCreateBuckets: true });
  await applyOk(cat, { type: 'createAccessKey', ...bob, name: 'bob', createdAtMs: 1, canCreateBuckets: true });
  await applyOk(cat, { type: 'createBucket', bucket: 'shared', owner: alice.accessKeyId, createdAtMs: 2 });
  expect(await applyRefused(cat, { type: 'setBucketGrant', bucket: 'shared', accessKeyId: 'TKNOBODY', read: true, write: false })).toBeInstanceOf(NoSuchAccessKeyError);
  expect(await applyRefused(cat, { type: 'setBucketGrant', bucket: 'nope', accessKeyId: bob.accessKeyId, read: true, write: false })).toBeInstanceOf(NoSuchBucketError);
  expect(await applyRefused(cat, { type: 'setBucketGrant', bucket: 'shared', accessKeyId: alice.accessKeyId, read: true, write: false })).toBeInstanceOf(InvalidArgumentError);

  await applyOk(cat, { type: 'setBucketGrant', bucket: 'shared', accessKeyId: bob.accessKeyId, read: true, write: false });
  expect((await cat.machine.getBucket('shared')).grants).toEqual([{ accessKeyId: bob.accessKeyId, read: true, write: false }]);
  await applyOk(cat, { type: 'setBucketGrant', bucket: 'shared', accessKeyId: bob.accessKeyId, read: false, write: true });
  expect((await cat.machine.getBucket('shared')).grants).toEqual([{ accessKeyId: bob.accessKeyId, read: false, write: true }]);
  await applyOk(cat, { type: 'setBucketGrant', bucket: 'shared', accessKeyId: bob.accessKeyId, read: false, write: false });
  expect((await cat.machine.getBucket('shared')).grants).toBeUndefined();
});

test('grants carry the ACL permissions READ_ACP and WRITE_ACP; a grant of only those is a grant; commands logged before them still apply', async () => {
  await applyOk(cat, { type: 'createAccessKey', ...alice, name: 'alice', createdAtMs: 1, canCreateBuckets: true });
  await applyOk(cat, { type: 'createAccessKey', ...bob, name: 'bob', createdAtMs: 1, canCreateBuckets: true });
  await applyOk(cat, { type: 'createBucket', bucket: 'shared', owner: alice.accessKeyId, createdAtMs: 2 });
  await applyOk(cat, { type: 'setBucketGrant', bucket: 'shared', accessKeyId: bob.accessKeyId, read: false, write: false, readAcp: true, writeAcp: false });
  expect((await cat.machine.getBucket('shared')).grants).toEqual([{ accessKeyId: bob.accessKeyId, read: false, write: false, readAcp: true }]);
  await applyOk(cat, { type: 'replaceBucketGrants', bucket: 'shared', grants: [{ accessKeyId: bob.accessKeyId, read: true, write: true, readAcp: true, writeAcp: true }] });
  expect((await cat.machine.getBucket('shared')).grants).toEqual([{ accessKeyId: bob.accessKeyId, read: true, write: true, readAcp: true, writeAcp: true }]);
  // A setBucketGrant from before the ACL permissions (no readAcp/writeAcp) replaces the grant with read/write only.
  await applyOk(cat, { type: 'setBucketGrant', bucket: 'shared', accessKeyId: bob.accessKeyId, read: true, write: false });
  expect((await cat.machine.getBucket('shared')).grants).toEqual([{ accessKeyId: bob.accessKeyId, read: true, write: false }]);
  expect(() => validateCommand({ type: 'replaceBucketGrants', bucket: 'shared', grants: [{ accessKeyId: bob.accessKeyId, read: false, write: false, writeAcp: true }] })).not.toThrow();
  expect(() => validateCommand({ type: 'replaceBucketGrants', bucket: 'shared', grants: [{ accessKeyId: bob.accessKeyId, read: false, write: false, readAcp: false, writeAcp: false }] })).toThrow(InvalidArgumentError);
  expect(() => validateCommand({ type: 'setBucketGrant', bucket: 'shared', accessKeyId: bob.accessKeyId, read: true, write: false, readAcp: 'yes' as unknown as boolean })).toThrow(InvalidArgumentError);
});

test('replaceBucketGrants (PutBucketAcl) sets exactly the grants given, all or nothing', async () => {
  await applyOk(cat, { type: 'createAccessKey', ...alice, name: 'alice', createdAtMs: 1, canCreateBuckets: true });
  await applyOk(cat, { type: 'createAccessKey', ...bob, name: 'bob', createdAtMs: 1, canCreateBuckets: true });
  await applyOk(cat, { type: 'createBucket', bucket: 'shared', owner: 'TKROOT', createdAtMs: 2 });
  await applyOk(cat, { type: 'setBucketGrant', bucket: 'shared', accessKeyId: bob.accessKeyId, read: true, write: true });
  await applyOk(cat, { type: 'replaceBucketGrants', bucket: 'shared', grants: [{ accessKeyId: alice.accessKeyId, read: true, write: false }] });
  expect((await cat.machine.getBucket('shared')).grants).toEqual([{ accessKeyId: alice.accessKeyId, read: true, write: false }]);
  // One unknown key refuses the whole command: the grants stay as they were.
  expect(await applyRefused(cat, { type: 'replaceBucketGrants', bucket: 'shared', grants: [{ accessKeyId: bob.accessKeyId, read: true, write: false }, { accessKeyId: 'TKNOBODY', read: true, write: false }] }))
    .toBeInstanceOf(NoSuchAccessKeyError);
  expect((await cat.machine.getBucket('shared')).grants).toEqual([{ accessKeyId: alice.accessKeyId, read: true, write: false }]);
  await applyOk(cat, { type: 'replaceBucketGrants', bucket: 'shared', grants: [] });
  expect((await cat.machine.getBucket('shared')).grants).toBeUndefined();
  expect(() => validateCommand({ type: 'replaceBucketGrants', bucket: 'shared', grants: [{ accessKeyId: bob.accessKeyId, read: false, write: false }] })).toThrow(InvalidArgumentError);
  expect(() => validateCommand({ type: 'replaceBucketGrants', bucket: 'shared', grants: [bob, bob].map((key) => ({ accessKeyId: key.accessKeyId, read: true, write: false })) })).toThrow(InvalidArgumentError);
});

test('PutBucketAcl\'s ACL as stated is kept with the grants it gives, and goes when the grants change another way', async () => {
  await applyOk(cat, { type: 'createAccessKey', ...alice, name: 'alice', createdAtMs: 1, canCreateBuckets: true });
  await applyOk(cat, { type: 'createAccessKey', ...bob, name: 'bob', createdAtMs: 1, canCreateBuckets: true });
  await applyOk(cat, { type: 'createBucket', bucket: 'shared', owner: alice.accessKeyId, createdAtMs: 2 });
  const exactAcl = [{ accessKeyId: bob.accessKeyId, permission: 'READ' as const }, { accessKeyId: bob.accessKeyId, permission: 'READ_ACP' as const }];
  await applyOk(cat, { type: 'replaceBucketGrants', bucket: 'shared', grants: [{ accessKeyId: bob.accessKeyId, read: true, write: false, readAcp: true }], exactAcl });
  expect((await cat.machine.getBucket('shared')).exactAcl).toEqual(exactAcl);
  // An empty ACL (every grant revoked, the owner's too) is kept as such.
  await applyOk(cat, { type: 'replaceBucketGrants', bucket: 'shared', grants: [], exactAcl: [] });
  expect((await cat.machine.getBucket('shared')).exactAcl).toEqual([]);
  // PutBucketAcl without one (a canned ACL), `tessera key allow` and deleting the key each drop it.
  await applyOk(cat, { type: 'replaceBucketGrants', bucket: 'shared', grants: [] });
  expect((await cat.machine.getBucket('shared')).exactAcl).toBeUndefined();
  await applyOk(cat, { type: 'replaceBucketGrants', bucket: 'shared', grants: [{ accessKeyId: bob.accessKeyId, read: true, write: false }], exactAcl: [exactAcl[0]!] });
  await applyOk(cat, { type: 'setBucketGrant', bucket: 'shared', accessKeyId: bob.accessKeyId, read: true, write: true });
  expect((await cat.machine.getBucket('shared')).exactAcl).toBeUndefined();
  await applyOk(cat, { type: 'replaceBucketGrants', bucket: 'shared', grants: [{ accessKeyId: bob.accessKeyId, read: true, write: false }], exactAcl: [exactAcl[0]!] });
  await applyOk(cat, { type: 'deleteAccessKey', accessKeyId: bob.accessKeyId, force: false });
  expect(await cat.machine.getBucket('shared')).toEqual(expect.not.objectContaining({ exactAcl: expect.anything(), grants: expect.anything() }));
  expect(() => validateCommand({ type: 'replaceBucketGrants', bucket: 'shared', grants: [], exactAcl: [{ accessKeyId: bob.accessKeyId, permission: 'OWN' as 'READ' }] })).toThrow(InvalidArgumentError);
  expect(() => validateCommand({ type: 'replaceBucketGrants', bucket: 'shared', grants: [], exactAcl: Array.from({ length: 101 }, () => exactAcl[0]!) })).toThrow(InvalidArgumentError);
});

test('a key that owns buckets is deleted only with force; its grants go with it, the buckets stay', async () => {
  await applyOk(cat, { type: 'createAccessKey', ...alice, name: 'alice', createdAtMs: 1, canCreateBuckets: true });
  await applyOk(cat, { type: 'createAccessKey', ...bob, name: 'bob', createdAtMs: 1, canCreateBuckets: true });
  await applyOk(cat, { type: 'createBucket', bucket: 'alices', owner: alice.accessKeyId, createdAtMs: 2 });
  await applyOk(cat, { type: 'createBucket', bucket: 'bobs', owner: bob.accessKeyId, createdAtMs: 2 });
  await applyOk(cat, { type: 'setBucketGrant', bucket: 'alices', accessKeyId: bob.accessKeyId, read: true, write: true });

  const refused = await applyRefused(cat, { type: 'deleteAccessKey', accessKeyId: bob.accessKeyId, force: false });
  expect(refused).toBeInstanceOf(AccessKeyOwnsBucketsError);
  expect((refused as AccessKeyOwnsBucketsError).buckets).toBe('bobs');
  expect((await cat.machine.getBucket('alices')).grants).toHaveLength(1);

  await applyOk(cat, { type: 'deleteAccessKey', accessKeyId: bob.accessKeyId, force: true });
  await expect(cat.machine.getAccessKey(bob.accessKeyId)).rejects.toBeInstanceOf(NoSuchAccessKeyError);
  expect((await cat.machine.getBucket('alices')).grants).toBeUndefined();
  expect((await cat.machine.getBucket('bobs')).owner).toBe(bob.accessKeyId);
  expect(await applyRefused(cat, { type: 'deleteAccessKey', accessKeyId: bob.accessKeyId, force: true })).toBeInstanceOf(NoSuchAccessKeyError);
  // A key without buckets goes without force.
  await applyOk(cat, { type: 'deleteBucket', bucket: 'alices' });
  await applyOk(cat, { type: 'deleteAccessKey', accessKeyId: alice.accessKeyId, force: false });
  expect(await cat.machine.listAccessKeys()).toEqual([]);
});

test('ids and secrets are checked before proposing', () => {
  const create = { type: 'createAccessKey' as const, name: 'n', createdAtMs: 1, canCreateBuckets: true };
  expect(() => validateCommand({ ...create, ...alice })).not.toThrow();
  expect(() => validateCommand({ ...create, accessKeyId: 'has space', secretAccessKey: alice.secretAccessKey })).toThrow(InvalidArgumentError);
  expect(() => validateCommand({ ...create, accessKeyId: alice.accessKeyId, secretAccessKey: 'short' })).toThrow(InvalidArgumentError);
  expect(() => validateCommand({ ...create, accessKeyId: alice.accessKeyId, secretAccessKey: 'sixteen or more but with spaces' })).toThrow(InvalidArgumentError);
  expect(() => validateCommand({ type: 'setBucketGrant', bucket: 'bucket', accessKeyId: 'x/y', read: true, write: true })).toThrow(InvalidArgumentError);
  expect(() => validateCommand({ type: 'deleteAccessKey', accessKeyId: '', force: false })).toThrow(InvalidArgumentError);
});
