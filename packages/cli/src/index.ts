/**
 * @packageDocumentation
 * The `tessera` command: `tessera start` runs a local cluster (npm start), operator commands
 * (`status`, `node drain|remove|add`), S3 quick commands (`bucket`, `cp`, `ls`, `rm`) and role
 * entry points (`tessera metadata|storage|gateway [flags]`). The binary is dist/main.js; this
 * module exposes the pieces that other tools and tests reuse.
 *
 * ```ts
 * import { resolveConfig, renderSettingsTable } from '@tessera/cli';
 * const config = resolveConfig(new Map([['gateway-port', '9010']]), process.env, process.cwd());
 * console.log(config.gatewayPort, config.sources.gatewayPort); // 9010 'flag'
 * ```
 */
export { parseArgs } from './args';
export type { ParsedArgs } from './args';
export { runCli, roleRunning } from './cli';
export type { CliEnvironment } from './cli';
export { renderSettingsTable, resolveConfig, settingCatalogue } from './config';
export type { CliConfig, SettingName } from './config';
export { CliError, UsageError } from './errors';
export { gatherStatus, renderStatus } from './commands/status';
export type { MetadataNodeView, StatusReport, StorageNodeView } from './commands/status';
export { parseS3Url } from './commands/s3';
export { renderLiveStatus, StatusBoard } from './status-board';
export type { Output } from './status-board';
