#!/usr/bin/env node
/**
 * Composition root of the `tessera` command: the only file that reads process.argv, the
 * environment, the terminal and signals. Everything else gets them as arguments.
 */
import { roleRunning, runCli } from './cli';

async function main(): Promise<void> {
  // The SDK warns on every command that releases after January 2027 will need Node 22; the
  // engines field already states what we support, and the warning buries command output.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const code = await runCli(process.argv.slice(2), {
    env: process.env,
    cwd: process.cwd(),
    processArgv: process.argv,
    nowMs: () => Date.now(),
    nodeExecPath: process.execPath,
    stdout: {
      write: (data) => process.stdout.write(data),
      isTTY: process.stdout.isTTY === true,
      get columns() {
        return process.stdout.columns;
      },
    },
    stderr: { write: (data) => process.stderr.write(data), isTTY: process.stderr.isTTY === true },
    onSignal: (signal, handler) => process.on(signal, handler),
    statusIntervalMs: 1_000,
  });
  if (code === roleRunning) return;
  // Let stdout drain before exiting (a pipe may be slower than us).
  process.stdout.write('', () => process.exit(code));
}

main().catch((err: unknown) => {
  process.stderr.write(`tessera: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(70);
});
