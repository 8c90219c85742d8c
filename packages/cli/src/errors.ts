/**
 * CLI outcomes other than success. main.ts prints `message` (one line, no stack) and exits with
 * `exitCode`: 2 for usage errors and unimplemented commands, 1 for operating errors.
 */
export class CliError extends Error {
  static readonly errorName = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = CliError.errorName;
  }
}

/** Wrong command line or configuration: exit 2 (the conventional "usage" code). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
