/**
 * Where the role entry points live. The launcher starts them as files, never imports them, so
 * @tessera/local-cluster does not depend on the server packages (layering: tools sit above the
 * services). In the monorepo, and in the container image that copies it, they sit next to this
 * package: packages/<role-package>/dist/main.js.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProcessRole } from './cluster-layout';

const rolePackage: Record<ProcessRole, string> = { metadata: 'metadata', storage: 'storage-node', gateway: 'gateway', healer: 'healer' };

/** `packages/<pkg>/dist/main.js` resolved from this file (src/ in tests, dist/ when built). */
export function defaultRoleMainPath(role: ProcessRole): string {
  return path.resolve(__dirname, '..', '..', rolePackage[role], 'dist', 'main.js');
}

export function roleMainExists(mainPath: string): boolean {
  return fs.existsSync(mainPath);
}

/**
 * The flags a main lists in its `--help` output. Used to pass optional flags only to mains
 * that know them (a storage node learns `--metadata`/`--advertise` in a later change), since the
 * mains reject unknown flags. Empty when the main has no `--help`.
 */
export function flagsInHelp(execPath: string, mainPath: string, env: Readonly<Record<string, string>>): ReadonlySet<string> {
  const result = spawnSync(execPath, [mainPath, '--help'], { encoding: 'utf8', timeout: 10_000, env: { ...env } });
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  return new Set(Array.from(text.matchAll(/--([a-z][a-z0-9-]*)/g), (m) => m[1] ?? ''));
}
