/**
 * `tessera key create|ls|rm|allow|deny`: S3 access keys other than root, kept by the metadata
 * service. A key owns the buckets it creates; in other buckets it has what `allow` grants it
 * (read and/or write objects). Gateways pick up a change within 5 s. The secret is printed
 * once, by `create`: store it then. `create --access-key-id <id>` imports an existing pair (an
 * application moving from another S3 store keeps its credentials); its secret comes from
 * TESSERA_KEY_SECRET, never from argv (visible in `ps`).
 */
import { AccessKeyOwnsBucketsError, MetadataError, accessKeyPairProblem } from '@tessera/rpc';
import { operatorMetadataClient } from '../cluster-access';
import { requiredPositional } from '../args';
import type { ParsedArgs } from '../args';
import { CliError, UsageError } from '../errors';
import { renderTable } from '../table';

export interface KeyCommandResult {
  readonly json: unknown;
  readonly text: string;
}

/** Flags only `tessera key` knows (booleans). */
export const keyBooleanFlags: readonly string[] = ['read', 'write', 'read-acp', 'write-acp', 'full-control', 'no-create-bucket'];

/** Where `key create --access-key-id` reads the imported key's secret. */
export const importedSecretEnvName = 'TESSERA_KEY_SECRET';

export async function runKeyCommand(args: ParsedArgs, addresses: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<KeyCommandResult> {
  const [, sub, first, second] = args.positionals;
  const client = operatorMetadataClient(addresses);
  try {
    switch (sub) {
      case 'ls':
      case undefined: {
        const keys = await client.listAccessKeys();
        const buckets = await client.listBuckets();
        const rows = keys.map((key) => {
          const owned = buckets.filter((bucket) => bucket.owner === key.accessKeyId).map((bucket) => bucket.name);
          const granted = buckets.flatMap((bucket) => bucket.grants.filter((grant) => grant.accessKeyId === key.accessKeyId).map((grant) => `${bucket.name}:${accessText(grant)}`));
          return [key.accessKeyId, key.name, new Date(key.createdAtMs).toISOString(), key.canCreateBuckets ? 'yes' : 'no', owned.join(',') || '-', granted.join(',') || '-'];
        });
        const json = keys.map((key) => ({ accessKeyId: key.accessKeyId, name: key.name, createdAtMs: key.createdAtMs, canCreateBuckets: key.canCreateBuckets }));
        return { json: { keys: json }, text: keys.length === 0 ? 'no access keys (only the root key): tessera key create <name>' : renderTable(['ACCESS KEY', 'NAME', 'CREATED', 'CREATE BUCKETS', 'OWNS', 'GRANTS'], rows) };
      }
      case 'create': {
        const name = requiredPositional(first, 'tessera key create <name> [--no-create-bucket] [--access-key-id <id> (secret in TESSERA_KEY_SECRET)]');
        const imported = importedPair(args.flags.get('access-key-id'), env[importedSecretEnvName]);
        const key = await client.createAccessKey({ name, canCreateBuckets: args.flags.get('no-create-bucket') !== 'true', ...imported });
        // An imported secret is the operator's own: it is not echoed.
        const shownSecret = imported.secretAccessKey === '' ? key.secretAccessKey : undefined;
        const text = [
          `Access key   ${key.accessKeyId}`,
          shownSecret === undefined ? `Secret key   (imported from ${importedSecretEnvName})` : `Secret key   ${shownSecret}`,
          `Name         ${key.name}`,
          `Buckets      ${key.canCreateBuckets ? 'may create buckets (and owns them)' : 'may not create buckets'}; others with tessera key allow ${key.accessKeyId} <bucket>`,
          ...(shownSecret === undefined ? [] : ['The secret is shown only now: store it.']),
        ].join('\n');
        const json = { accessKeyId: key.accessKeyId, ...(shownSecret === undefined ? {} : { secretAccessKey: shownSecret }), name: key.name, canCreateBuckets: key.canCreateBuckets };
        return { json, text };
      }
      case 'rm': {
        const id = requiredPositional(first, 'tessera key rm <access-key-id> [--force]');
        const force = args.flags.get('force') === 'true';
        await client.deleteAccessKey(id, force);
        return { json: { deleted: id }, text: `${id}: deleted (gateways refuse it within 5 s)${force ? '; buckets it owned stay, reachable with the root key' : ''}` };
      }
      case 'allow':
      case 'deny': {
        const usage = sub === 'allow'
          ? 'tessera key allow <access-key-id> <bucket> [--read] [--write] [--read-acp] [--write-acp] [--full-control]'
          : 'tessera key deny <access-key-id> <bucket>';
        const id = requiredPositional(first, usage);
        const bucket = requiredPositional(second, usage);
        const flag = (name: string): boolean => args.flags.get(name) === 'true';
        const full = flag('full-control');
        const given = { read: full || flag('read'), write: full || flag('write'), readAcp: full || flag('read-acp'), writeAcp: full || flag('write-acp') };
        const anyGiven = Object.values(given).includes(true);
        if (sub === 'deny' && anyGiven) throw new UsageError('tessera key deny removes the whole grant: it takes no permission flags');
        // allow with no flag: read and write.
        const access = sub === 'deny' ? { read: false, write: false, readAcp: false, writeAcp: false } : anyGiven ? given : { read: true, write: true, readAcp: false, writeAcp: false };
        await client.setBucketGrant(bucket, id, access);
        const text = sub === 'deny' ? `${id}: no access to ${bucket} (gateways apply it within 5 s)` : `${id}: ${accessText(access)} in ${bucket} (gateways apply it within 5 s)`;
        return { json: { accessKeyId: id, bucket, ...access }, text };
      }
      default:
        throw new UsageError(`unknown key command ${JSON.stringify(sub)}: use ls, create, rm, allow or deny`);
    }
  } catch (err) {
    if (err instanceof AccessKeyOwnsBucketsError) throw new CliError(`${err.message}: delete those buckets first, or --force to delete the key and leave them to the root key`);
    if (err instanceof MetadataError) throw new CliError(err.message);
    throw err;
  } finally {
    client.close();
  }
}

/** Both empty (the service generates a pair), or an imported pair checked here for a clear message. */
function importedPair(accessKeyId: string | undefined, secretAccessKey: string | undefined): { accessKeyId: string; secretAccessKey: string } {
  if (accessKeyId === undefined) {
    if (secretAccessKey !== undefined && secretAccessKey !== '') throw new UsageError(`${importedSecretEnvName} is set: give the key's id with --access-key-id, or unset it to generate a key`);
    return { accessKeyId: '', secretAccessKey: '' };
  }
  if (secretAccessKey === undefined || secretAccessKey === '') throw new UsageError(`--access-key-id imports a key: put its secret in ${importedSecretEnvName} (never on the command line)`);
  const problem = accessKeyPairProblem({ accessKeyId, secretAccessKey });
  if (problem !== undefined) throw new UsageError(problem);
  return { accessKeyId, secretAccessKey };
}

/** A grant as `key ls` and `key allow` show it: `read+write`, `read+read-acp`, `full-control`, ... */
function accessText(access: { readonly read: boolean; readonly write: boolean; readonly readAcp?: boolean; readonly writeAcp?: boolean }): string {
  const names = [access.read && 'read', access.write && 'write', access.readAcp === true && 'read-acp', access.writeAcp === true && 'write-acp'].filter((name) => name !== false);
  return names.length === 4 ? 'full-control' : names.join('+');
}
