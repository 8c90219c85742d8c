/**
 * Pieces every process's settings resolution shares (pure: the caller passes the file reader).
 * Failures are reported through `fail`, so each process keeps its own configuration error type.
 */

/** The JSON object in `configPath`; unreadable, not JSON, or not an object: `fail(reason)`. */
export function readJsonObjectFile(configPath: string, readFile: (path: string) => string, fail: (message: string) => Error): Record<string, unknown> {
  let text: string;
  try {
    text = readFile(configPath);
  } catch (err) {
    throw fail(`cannot read config file ${configPath}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw fail(`config file ${configPath} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw fail(`config file ${configPath} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

/** `text` when it is `host:port` (a name, IPv4, or bracketed IPv6, and a port up to 65535); else `fail`. */
export function checkHostPort(text: string, what: string, fail: (message: string) => Error): string {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (match === null || Number(match[2]) > 65535) throw fail(`${what}: ${JSON.stringify(text)} must be host:port`);
  return text;
}
