/**
 * `tessera metadata|storage|gateway|healer [flags]`: runs that role's own entry point in this process,
 * flags untouched, so one command (and one container entry point) starts any role. The role's
 * main stays the only composition root: it is loaded as the process's main module, exactly as
 * if started with `node packages/<pkg>/dist/main.js [flags]`.
 */
import * as Module from 'node:module';
import { defaultRoleMainPath } from '@tessera/local-cluster';
import type { ProcessRole } from '@tessera/local-cluster';
import { CliError } from '../errors';
import * as fs from 'node:fs';

const roles: Record<string, ProcessRole> = { metadata: 'metadata', storage: 'storage', gateway: 'gateway', healer: 'healer' };

export function isRoleCommand(command: string | undefined): boolean {
  return command !== undefined && command in roles;
}

/**
 * Replaces process.argv so the main sees its own flags, then runs it as the main module
 * (`require.main === module` holds inside it). Returns once it is loaded; the role keeps the
 * process alive and exits on its own.
 */
export function runRoleInProcess(command: string, roleArgs: readonly string[], execPath: string, argv: string[]): void {
  const role = roles[command];
  if (role === undefined) throw new CliError(`unknown role ${command}`);
  const mainPath = defaultRoleMainPath(role);
  if (!fs.existsSync(mainPath)) throw new CliError(`${role} is not built (${mainPath} is missing): run npm run build`);
  argv.splice(0, argv.length, execPath, mainPath, ...roleArgs);
  Module.runMain(mainPath);
}
