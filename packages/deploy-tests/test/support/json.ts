/** Small readers for parsed YAML/JSON, so checks can walk untyped documents without `any`. */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `path`, or an empty object when absent or not an object. */
export function objectAt(value: unknown, ...path: string[]): JsonObject {
  let current: unknown = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return isObject(current) ? current : {};
}

/** The array at `path`, or an empty array when absent or not an array. */
export function arrayAt(value: unknown, ...path: string[]): unknown[] {
  let current: unknown = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return Array.isArray(current) ? current : [];
}

/** The string at `path`, or undefined. */
export function stringAt(value: unknown, ...path: string[]): string | undefined {
  let current: unknown = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return typeof current === 'string' ? current : undefined;
}

export function numberAt(value: unknown, ...path: string[]): number | undefined {
  let current: unknown = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return typeof current === 'number' ? current : undefined;
}

/** A string-to-string map (labels, matchLabels, data); non-string values are dropped. */
export function stringMapAt(value: unknown, ...path: string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, entry] of Object.entries(objectAt(value, ...path))) if (typeof entry === 'string') result[key] = entry;
  return result;
}
