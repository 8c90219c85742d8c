/**
 * Command-line parsing: positional words and `--name value` / `--name=value` flags. Boolean
 * flags (declared per command) take no value. Pure, so tests and help text share it.
 */
import { UsageError } from './errors';

export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly flags: ReadonlyMap<string, string>;
}

export function parseArgs(argv: readonly string[], booleanFlags: ReadonlySet<string>): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (booleanFlags.has(name)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags.set(name, 'true');
      continue;
    }
    const value = eq === -1 ? argv[i + 1] : arg.slice(eq + 1);
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (eq === -1) i += 1;
    flags.set(name, value);
  }
  return { positionals, flags };
}

/** Rejects flags a command does not know, naming the first one. */
export function checkKnownFlags(args: ParsedArgs, known: ReadonlySet<string>, command: string): void {
  for (const name of args.flags.keys()) {
    if (!known.has(name)) throw new UsageError(`unknown flag --${name} for \`tessera ${command}\` (see tessera help)`);
  }
}

/** A positional a command cannot do without; missing or empty is a usage error (exit 2) showing `usage`. */
export function requiredPositional(value: string | undefined, usage: string): string {
  if (value === undefined || value === '') throw new UsageError(`usage: ${usage}`);
  return value;
}
