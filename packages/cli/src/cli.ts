/**
 * Command dispatch for `tessera`. Takes argv, env and output streams as arguments (main.ts
 * passes the real ones), resolves the settings once, and returns the exit code: 0 success,
 * 1 operating error, 2 usage error or unimplemented command.
 */
import { ClusterLayoutError, DataDirLockedError, PortInUseError, ReadyTimeoutError, RoleMainMissingError, RootKeysFileError } from '@tessera/local-cluster';
import { checkKnownFlags, parseArgs } from './args';
import { clientCredentials, endpointOf, healerAddressOf, metadataAddressesOf } from './cluster-access';
import { resolveConfig, settingCatalogue, settingFlags } from './config';
import type { CliConfig, SettingName } from './config';
import { CliError, UsageError } from './errors';
import { usage } from './help';
import { renderTable } from './table';
import { parseHealAction, runHealCommand } from './commands/heal';
import { keyBooleanFlags, runKeyCommand } from './commands/key';
import { runEncryptionCommand } from './commands/encryption';
import { runMemberCommand } from './commands/member';
import { runNodeCommand } from './commands/node';
import { isRoleCommand, runRoleInProcess } from './commands/role';
import { runS3Command } from './commands/s3';
import { gatherStatus, renderStatus } from './commands/status';
import { runStart } from './commands/start';
import type { StartEnvironment } from './commands/start';

export interface CliEnvironment extends StartEnvironment {
  readonly cwd: string;
  /** The real process.argv, rewritten for role commands. */
  readonly processArgv: string[];
  readonly nowMs: () => number;
}

const booleanFlags = new Set(['json', 'help', 'force', 'watch', 'learner', ...keyBooleanFlags]);

/** Sentinel: a role command now owns the process; main.ts must not exit. */
export const roleRunning = -1;

export async function runCli(argv: readonly string[], environment: CliEnvironment): Promise<number> {
  const command = argv[0];
  if (isRoleCommand(command)) {
    runRoleInProcess(command ?? '', argv.slice(1), environment.nodeExecPath, environment.processArgv);
    return roleRunning;
  }
  try {
    return await dispatch(argv, environment);
  } catch (err) {
    if (err instanceof UsageError) {
      environment.stderr.write(`tessera: ${err.message}\n`);
      return 2;
    }
    if (err instanceof CliError) {
      environment.stderr.write(`tessera: ${err.message}\n`);
      return err.exitCode;
    }
    if (isOperatorError(err)) {
      environment.stderr.write(`tessera: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function isOperatorError(err: unknown): err is Error {
  return err instanceof PortInUseError || err instanceof DataDirLockedError || err instanceof RoleMainMissingError
    || err instanceof ReadyTimeoutError || err instanceof RootKeysFileError || err instanceof ClusterLayoutError;
}

async function dispatch(argv: readonly string[], environment: CliEnvironment): Promise<number> {
  const args = parseArgs(argv, booleanFlags);
  const command = args.positionals[0];
  if (command === undefined || command === 'help' || args.flags.has('help')) {
    environment.stdout.write(usage);
    return command === undefined && !args.flags.has('help') ? 2 : 0;
  }
  const commandFlags: Record<string, readonly string[]> = {
    node: ['zone', 'address', 'capacity-bytes', 'reason'], heal: ['healer', 'rate', 'watch', 'interval-ms'], scrub: ['healer', 'watch', 'interval-ms'], key: [...keyBooleanFlags, 'access-key-id'],
    member: ['address', 'learner', 'timeout-ms'],
  };
  // --watch and the key flags are parsed as booleans everywhere but known only to their commands.
  const commandOnly = new Set(['watch', 'learner', ...keyBooleanFlags]);
  const known = new Set([...settingFlags, ...[...booleanFlags].filter((name) => !commandOnly.has(name)), ...(commandFlags[command] ?? [])]);
  checkKnownFlags(args, known, command);
  const settingArgs = new Map([...args.flags].filter(([name]) => settingFlags.has(name)));
  const config = resolveConfig(settingArgs, environment.env, environment.cwd);
  const json = args.flags.has('json');
  const print = (value: unknown, text: string): void => environment.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text === '' ? '' : `${text}\n`);
  switch (command) {
    case 'start':
      return runStart(config, environment);
    case 'status': {
      const report = await gatherStatus(metadataAddressesOf(config), 3_000, environment.nowMs());
      print(report, renderStatus(report));
      return 0;
    }
    case 'node': {
      const result = await runNodeCommand(args, metadataAddressesOf(config), environment.nowMs());
      print(result.json, result.text);
      return 0;
    }
    case 'member': {
      const result = await runMemberCommand({ args, addresses: metadataAddressesOf(config), progress: (line) => environment.stderr.write(`${line}\n`) });
      print(result.json, result.text);
      return 0;
    }
    case 'key': {
      const result = await runKeyCommand(args, metadataAddressesOf(config), environment.env);
      print(result.json, result.text);
      return 0;
    }
    case 'encryption': {
      const result = await runEncryptionCommand(args.positionals[1], metadataAddressesOf(config));
      print(result.json, result.text);
      return 0;
    }
    case 'heal':
    case 'scrub':
      return runHealCommand({
        loop: command, action: parseHealAction(args.positionals.slice(1), command), healerAddress: healerAddressOf(args.flags.get('healer'), config),
        json, watch: args.flags.has('watch'), rate: args.flags.get('rate'), pollIntervalMs: pollIntervalMsOf(args.flags.get('interval-ms')),
      }, environment);
    case 'bucket':
    case 'ls':
    case 'cp':
    case 'rm':
      return runS3(args, config, environment, print);
    case 'config':
      print(config, renderTable(['SETTING', 'VALUE', 'FROM'], (Object.keys(settingCatalogue) as SettingName[]).map((name) => [
        `--${settingCatalogue[name].flag}`, config.values[name] ?? settingCatalogue[name].defaultText, config.sources[name],
      ])));
      return 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (tessera help lists them)`);
  }
}

/** `--interval-ms` of the watch commands: how often the healer is polled (default 1 s). */
function pollIntervalMsOf(text: string | undefined): number {
  if (text === undefined) return 1_000;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 50 || ms > 3_600_000) throw new UsageError(`--interval-ms ${JSON.stringify(text)}: give whole milliseconds between 50 and 3600000`);
  return ms;
}

async function runS3(args: ReturnType<typeof parseArgs>, config: CliConfig, environment: CliEnvironment, print: (value: unknown, text: string) => void): Promise<number> {
  const result = await runS3Command(args, { endpoint: endpointOf(config), region: config.region, credentials: clientCredentials(config, environment.env) });
  if (result.stdoutStream !== undefined) {
    for await (const chunk of result.stdoutStream) environment.stdout.write(chunk as Uint8Array);
    return 0;
  }
  print(result.json, result.text);
  return 0;
}
