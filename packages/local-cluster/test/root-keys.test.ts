// Goal: root keys are generated once with a CSPRNG, kept private (0600) and reused; environment
// keys win. Method: real files in a temp directory.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateRootCredentials, loadOrCreateRootKeys, RootKeysFileError, validateRootCredentials } from '@tessera/local-cluster';

describe('root keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-keys-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('generated once, mode 0600, then reused unchanged', () => {
    const keysPath = path.join(dir, 'root-keys.json');
    const first = loadOrCreateRootKeys(keysPath, {});
    expect(first.source).toBe('generated');
    expect(fs.statSync(keysPath).mode & 0o777).toBe(0o600);
    const second = loadOrCreateRootKeys(keysPath, {});
    expect(second.source).toBe('file');
    expect(second.credentials).toEqual(first.credentials);
  });

  test('a loosened key file is tightened back to 0600 on reuse', () => {
    const keysPath = path.join(dir, 'root-keys.json');
    loadOrCreateRootKeys(keysPath, {});
    fs.chmodSync(keysPath, 0o644);
    loadOrCreateRootKeys(keysPath, {});
    expect(fs.statSync(keysPath).mode & 0o777).toBe(0o600);
  });

  test('environment keys win and leave no file behind', () => {
    const keysPath = path.join(dir, 'root-keys.json');
    const fromEnv = { accessKeyId: 'ENVKEY123', secretAccessKey: 'env-secret-0123456789' };
    expect(loadOrCreateRootKeys(keysPath, fromEnv)).toEqual({ credentials: fromEnv, source: 'env' });
    expect(fs.existsSync(keysPath)).toBe(false);
    expect(() => loadOrCreateRootKeys(keysPath, { accessKeyId: 'ONLYKEY' })).toThrow(/must be set together/);
    expect(() => loadOrCreateRootKeys(keysPath, { accessKeyId: 'KEY', secretAccessKey: 'short' })).toThrow(/at least 16/);
  });

  test('generated keys are AWS-shaped, shell-safe and distinct', () => {
    const keys = Array.from({ length: 50 }, () => generateRootCredentials());
    for (const k of keys) {
      expect(k.accessKeyId).toMatch(/^TK[A-Z0-9]{18}$/);
      expect(k.secretAccessKey).toMatch(/^[A-Za-z0-9]{40}$/);
      expect(validateRootCredentials(k)).toBeUndefined();
    }
    expect(new Set(keys.map((k) => k.secretAccessKey)).size).toBe(50);
  });

  test('a corrupt key file is an error naming the file, not silently replaced', () => {
    const keysPath = path.join(dir, 'root-keys.json');
    fs.writeFileSync(keysPath, '{not json');
    expect(() => loadOrCreateRootKeys(keysPath, {})).toThrow(RootKeysFileError);
    expect(() => loadOrCreateRootKeys(keysPath, {})).toThrow(keysPath);
  });
});
