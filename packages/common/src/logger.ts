/**
 * Structured logging: one JSON object per line on stderr in services, silent in tests unless
 * asked. Components receive a Logger; none creates its own.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const levelOrder: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  readonly levelMin: LogLevel;
  readonly write: (line: string) => void;
  readonly nowMs: () => number;
  readonly fields?: LogFields;
}

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const base = options.fields ?? {};
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (levelOrder[level] < levelOrder[options.levelMin]) return;
    const record = { time: new Date(options.nowMs()).toISOString(), level, message, ...base, ...fields };
    options.write(JSON.stringify(record, errorReplacer));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createJsonLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
