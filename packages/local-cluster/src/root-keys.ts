/**
 * The root S3 credentials of a local cluster. Taken from the environment when given; otherwise
 * generated once from the OS CSPRNG and kept in `<data-dir>/root-keys.json` (mode 0600), so a
 * restart on the same data directory keeps working with the same keys.
 *
 * File format: `{"accessKeyId":"TK...","secretAccessKey":"...","createdAt":"<ISO time>"}`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { accessKeyPairProblem, generateAccessKeyPair } from '@tessera/rpc';

export interface RootCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export type RootKeysSource = 'env' | 'file' | 'generated';

/** The key file exists but cannot be used. */
export class RootKeysFileError extends Error {
  static readonly errorName = 'RootKeysFileError';
  constructor(readonly keysPath: string, reason: string) {
    super(`root key file ${keysPath}: ${reason}`);
    this.name = RootKeysFileError.errorName;
  }
}

/** AWS-shaped keys from the OS CSPRNG (`generateAccessKeyPair` in @tessera/rpc). */
export function generateRootCredentials(): RootCredentials {
  return generateAccessKeyPair();
}

export function validateRootCredentials(credentials: RootCredentials): string | undefined {
  return accessKeyPairProblem(credentials);
}

/** Reads the key file; undefined when it does not exist. */
export function readRootKeysFile(keysPath: string): RootCredentials | undefined {
  let text: string;
  try {
    text = fs.readFileSync(keysPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RootKeysFileError(keysPath, (err as Error).message);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RootKeysFileError(keysPath, 'not valid JSON (delete it to generate new keys)');
  }
  const record = parsed as Partial<Record<string, unknown>>;
  if (typeof record['accessKeyId'] !== 'string' || typeof record['secretAccessKey'] !== 'string') {
    throw new RootKeysFileError(keysPath, 'needs string fields accessKeyId and secretAccessKey');
  }
  const credentials = { accessKeyId: record['accessKeyId'], secretAccessKey: record['secretAccessKey'] };
  const problem = validateRootCredentials(credentials);
  if (problem !== undefined) throw new RootKeysFileError(keysPath, problem);
  return credentials;
}

/**
 * Environment keys win (both must be set); else the key file; else new keys, written with
 * O_EXCL and mode 0600 so two launchers cannot both generate, and no other user can read them.
 */
export function loadOrCreateRootKeys(keysPath: string, fromEnv: Partial<RootCredentials>): { credentials: RootCredentials; source: RootKeysSource } {
  if (fromEnv.accessKeyId !== undefined || fromEnv.secretAccessKey !== undefined) {
    if (fromEnv.accessKeyId === undefined || fromEnv.secretAccessKey === undefined) {
      throw new RootKeysFileError(keysPath, 'TESSERA_ROOT_ACCESS_KEY and TESSERA_ROOT_SECRET_KEY must be set together');
    }
    const credentials = { accessKeyId: fromEnv.accessKeyId, secretAccessKey: fromEnv.secretAccessKey };
    const problem = validateRootCredentials(credentials);
    if (problem !== undefined) throw new RootKeysFileError(keysPath, `from the environment: ${problem}`);
    return { credentials, source: 'env' };
  }
  const existing = readRootKeysFile(keysPath);
  if (existing !== undefined) {
    // Tighten permissions a copy or an umask may have loosened.
    fs.chmodSync(keysPath, 0o600);
    return { credentials: existing, source: 'file' };
  }
  const credentials = generateRootCredentials();
  fs.mkdirSync(path.dirname(keysPath), { recursive: true });
  const body = `${JSON.stringify({ ...credentials, createdAt: new Date().toISOString() }, null, 2)}\n`;
  const fd = fs.openSync(keysPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    fs.writeFileSync(fd, body);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { credentials, source: 'generated' };
}
