// Goal: what the catalogue keeps for server-side encryption: the master key is written once
// (a second init, as from a gateway racing the first, answers the first key unchanged); a
// rotation makes a new key current while every older one stays readable by id; a
// bucket's default encryption is set and removed, and an encrypted part's counter block goes
// from registerPart into the completed object's layout (and a re-upload of the part replaces
// it). Bad values never reach the log.
// Method: commands applied to a real CatalogueStateMachine over LevelDB, and validateCommand as
// the service runs it before proposing.
import { createHash, randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '@tessera/rpc';
import { validateCommand } from '../src/commands';
import type { TempCatalogue } from './helpers';
import { applyOk, md5a, md5b, openTempCatalogue, registerNodes, stripe } from './helpers';

let cat: TempCatalogue;
beforeEach(async () => {
  cat = await openTempCatalogue();
});
afterEach(async () => {
  await cat.close();
});

test('the master key is written once: a second init answers the first key', async () => {
  expect(await cat.machine.getEncryptionMasterKey()).toBeUndefined();
  const first = randomBytes(32).toString('base64');
  const stored = await applyOk(cat, { type: 'initEncryptionMasterKey', keyBase64: first, createdAtMs: 10 });
  const keyId = createHash('sha256').update(Buffer.from(first, 'base64')).digest('hex').slice(0, 16);
  expect(stored).toEqual({ keyId, keyBase64: first, createdAtMs: 10 });
  expect(await applyOk(cat, { type: 'initEncryptionMasterKey', keyBase64: randomBytes(32).toString('base64'), createdAtMs: 11 })).toEqual(stored);
  expect(await cat.machine.getEncryptionMasterKey()).toEqual(stored);
});

test('a rotation makes a new key current and keeps the old ones by id', async () => {
  const first = (await applyOk(cat, { type: 'initEncryptionMasterKey', keyBase64: randomBytes(32).toString('base64'), createdAtMs: 10 })) as { keyId: string };
  const second = (await applyOk(cat, { type: 'rotateEncryptionMasterKey', keyBase64: randomBytes(32).toString('base64'), createdAtMs: 20 })) as { keyId: string };
  const third = (await applyOk(cat, { type: 'rotateEncryptionMasterKey', keyBase64: randomBytes(32).toString('base64'), createdAtMs: 30 })) as { keyId: string };
  expect((await cat.machine.getEncryptionMasterKey())?.keyId).toBe(third.keyId);
  for (const key of [first, second, third]) expect((await cat.machine.getEncryptionMasterKey(key.keyId))?.keyId).toBe(key.keyId);
  expect(await cat.machine.getEncryptionMasterKey('0123456789abcdef')).toBeUndefined();
  expect((await cat.machine.listEncryptionMasterKeys()).map((key) => key.keyId)).toEqual([first.keyId, second.keyId, third.keyId]);
  // An init racing a rotation keeps the current key.
  expect(((await applyOk(cat, { type: 'initEncryptionMasterKey', keyBase64: randomBytes(32).toString('base64'), createdAtMs: 40 })) as { keyId: string }).keyId).toBe(third.keyId);
});

test('bucket default encryption is set and removed', async () => {
  await applyOk(cat, { type: 'createBucket', bucket: 'vault', owner: 'o', createdAtMs: 1 });
  await applyOk(cat, { type: 'setBucketEncryption', bucket: 'vault', algorithm: 'AES256' });
  expect((await cat.machine.getBucket('vault')).defaultEncryption).toBe('AES256');
  await applyOk(cat, { type: 'setBucketEncryption', bucket: 'vault', algorithm: '' });
  expect((await cat.machine.getBucket('vault')).defaultEncryption).toBeUndefined();
});

test("an encrypted part's counter block reaches the object's layout; a re-upload replaces it", async () => {
  for (const command of registerNodes()) await applyOk(cat, command);
  await applyOk(cat, { type: 'createBucket', bucket: 'vault', owner: 'o', createdAtMs: 1 });
  await applyOk(cat, {
    type: 'createUpload', bucket: 'vault', key: 'mp', uploadId: 'u1', initiatedAtMs: 1, contentType: '', systemMetadata: { 'x-tessera-sse': 'AES256' },
    userMetadata: {}, storageClass: 'STANDARD', owner: 'o',
  });
  const part = (partNumber: number, etag: string, cipherIv: string) => ({
    type: 'registerPart' as const, bucket: 'vault', key: 'mp', uploadId: 'u1', partNumber, sizeBytes: 5 * 1024 * 1024, etag, checksums: {},
    stripe: stripe(`p-${partNumber}-${etag.slice(0, 4)}`), inlineData: undefined, createdAtMs: 2, cipherIv,
  });
  const [ivA, ivB, ivC] = [randomBytes(16), randomBytes(16), randomBytes(16)].map((iv) => iv.toString('base64')) as [string, string, string];
  await applyOk(cat, part(1, md5a, ivA));
  await applyOk(cat, part(1, md5b, ivB));
  await applyOk(cat, { ...part(2, md5a, ''), cipherIv: ivC });
  await applyOk(cat, { type: 'completeUpload', bucket: 'vault', key: 'mp', uploadId: 'u1', versionId: 'v1', parts: [{ partNumber: 1, etag: md5b }, { partNumber: 2, etag: md5a }], completedAtMs: 3 });
  const object = await cat.machine.getObject('vault', 'mp');
  expect(object.systemMetadata['x-tessera-sse']).toBe('AES256');
  expect(object.layout.kind === 'multipart' && object.layout.parts.map((p) => [p.partNumber, p.cipherIv])).toEqual([[1, ivB], [2, ivC]]);
});

test('bad values are refused before proposing', () => {
  expect(() => validateCommand({ type: 'initEncryptionMasterKey', keyBase64: randomBytes(16).toString('base64'), createdAtMs: 1 })).toThrow(InvalidArgumentError);
  expect(() => validateCommand({ type: 'initEncryptionMasterKey', keyBase64: 'not base64!', createdAtMs: 1 })).toThrow(InvalidArgumentError);
  expect(() => validateCommand({ type: 'setBucketEncryption', bucket: 'vault', algorithm: 'aws:kms' as 'AES256' })).toThrow(InvalidArgumentError);
  expect(() => validateCommand({
    type: 'registerPart', bucket: 'vault', key: 'mp', uploadId: 'u1', partNumber: 1, sizeBytes: 10, etag: md5a, checksums: {},
    stripe: stripe('p'), inlineData: undefined, createdAtMs: 2, cipherIv: randomBytes(12).toString('base64'),
  })).toThrow(InvalidArgumentError);
});
