/**
 * The POST policy of a browser-form upload (S3 "POST Policy"): a base64 JSON document with an
 * `expiration` and a list of `conditions` that the form must meet. Parsing refuses a malformed
 * document (InvalidPolicyDocument, 400); checking refuses a form the policy does not allow
 * (AccessDenied, 403, "Invalid according to Policy: ..."), as S3 does. Pure: the caller passes
 * the time and the form.
 */
import { S3Error } from './s3-errors';

export type PostPolicyCondition =
  | { readonly kind: 'eq'; readonly field: string; readonly value: string; readonly text: string }
  | { readonly kind: 'starts-with'; readonly field: string; readonly prefix: string; readonly text: string }
  | { readonly kind: 'content-length-range'; readonly minBytes: number; readonly maxBytes: number };

export interface PostPolicy {
  readonly expirationMs: number;
  readonly conditions: readonly PostPolicyCondition[];
}

/** The file's size bounds a policy sets (`content-length-range`; several narrow each other). */
export interface ContentLengthRange {
  readonly minBytes: number;
  readonly maxBytes: number;
}

/** Form fields no condition has to name (S3: the signature, the policy, the file, `x-ignore-*`). */
const fieldsExemptFromPolicy = new Set(['policy', 'file', 'x-amz-signature', 'signature', 'awsaccesskeyid']);

function invalid(detail: string): S3Error {
  return new S3Error('InvalidPolicyDocument', { message: `Invalid Policy: ${detail}` });
}

function refused(detail: string): S3Error {
  return new S3Error('AccessDenied', { message: `Invalid according to Policy: ${detail}` });
}

/** ISO 8601 in UTC, as S3 requires: `2026-11-23T12:00:00Z` or with fractional seconds. */
const expirationPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

function parseExpiration(value: unknown): number {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const match = typeof value === 'string' ? expirationPattern.exec(value) : null;
  if (match === null) throw invalid(`Invalid 'expiration' value: '${text}'`);
  const [, year, month, day, hour, minute, second, fraction] = match;
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), Math.floor(Number(fraction ?? '0') * 1000));
  // Date.UTC rolls 2026-02-30 over into March: only a real date reads back the same.
  const check = new Date(ms);
  if (check.getUTCMonth() !== Number(month) - 1 || check.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) {
    throw invalid(`Invalid 'expiration' value: '${text}'`);
  }
  return ms;
}

/** A condition's field: `$key` in the array forms, `key` in the object form; case-insensitive. */
function fieldName(value: unknown, withDollar: boolean, text: string): string {
  if (typeof value !== 'string' || (withDollar && !value.startsWith('$'))) throw invalid(`Condition has an invalid field name: ${text}`);
  const name = (withDollar ? value.slice(1) : value).toLowerCase();
  if (name === '') throw invalid(`Condition has an empty field name: ${text}`);
  return name;
}

function conditionValue(value: unknown, text: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw invalid(`Condition has an invalid value: ${text}`);
}

function lengthBound(value: unknown, text: string): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) throw invalid(`Invalid content-length-range: ${text}`);
  return number;
}

function parseCondition(condition: unknown): PostPolicyCondition {
  const text = JSON.stringify(condition) ?? String(condition);
  if (Array.isArray(condition)) {
    const operator = typeof condition[0] === 'string' ? condition[0].toLowerCase() : undefined;
    if (operator === 'content-length-range') {
      if (condition.length !== 3) throw invalid(`Invalid content-length-range: ${text}`);
      const minBytes = lengthBound(condition[1], text);
      const maxBytes = lengthBound(condition[2], text);
      if (minBytes > maxBytes) throw invalid(`Invalid content-length-range: ${text}`);
      return { kind: 'content-length-range', minBytes, maxBytes };
    }
    if (operator !== 'eq' && operator !== 'starts-with') throw invalid(`Invalid condition: ${text}`);
    if (condition.length !== 3) throw invalid(`Condition needs three elements: ${text}`);
    const field = fieldName(condition[1], true, text);
    const value = conditionValue(condition[2], text);
    return operator === 'eq' ? { kind: 'eq', field, value, text } : { kind: 'starts-with', field, prefix: value, text };
  }
  if (typeof condition === 'object' && condition !== null) {
    const entries = Object.entries(condition);
    if (entries.length !== 1) throw invalid(`Each condition object names exactly one field: ${text}`);
    const [name, value] = entries[0]!;
    return { kind: 'eq', field: fieldName(name, false, text), value: conditionValue(value, text), text };
  }
  throw invalid(`Invalid condition: ${text}`);
}

/** Decodes and validates a policy document (the form's `policy` field, base64). */
export function parsePostPolicy(policyBase64: string): PostPolicy {
  const trimmed = policyBase64.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) throw invalid('the policy is not valid base64.');
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(trimmed, 'base64').toString('utf8'));
  } catch {
    throw invalid('the policy is not valid JSON.');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalid('the policy is not a JSON object.');
  const fields = document as Record<string, unknown>;
  // Names are case-sensitive: "EXPIRATION" and "CONDITIONS" are not the policy's elements.
  if (!('expiration' in fields)) throw invalid("Policy missing expiration.");
  if (!('conditions' in fields)) throw invalid('Policy missing conditions.');
  const expirationMs = parseExpiration(fields['expiration']);
  const conditions = fields['conditions'];
  if (!Array.isArray(conditions)) throw invalid("'conditions' is not a list.");
  return { expirationMs, conditions: conditions.map(parseCondition) };
}

function matches(condition: Exclude<PostPolicyCondition, { kind: 'content-length-range' }>, value: string): boolean {
  if (condition.kind === 'eq') return value === condition.value;
  // Content-Type may list several values (comma-separated); each must start with the prefix.
  if (condition.field === 'content-type' && condition.prefix !== '') {
    return value.split(',').every((part) => part.trim().startsWith(condition.prefix));
  }
  return value.startsWith(condition.prefix);
}

/**
 * Checks a form against its policy. `fields` are the form fields before the file, by lower-case
 * name, with `bucket` set to the bucket the request names and `key` to the key after `${filename}`
 * substitution. Returns the size range the file must fall in.
 */
export function checkPostPolicy(policy: PostPolicy, fields: ReadonlyMap<string, string>, nowMs: number): ContentLengthRange {
  if (nowMs > policy.expirationMs) throw refused('Policy expired.');
  let range: ContentLengthRange = { minBytes: 0, maxBytes: Number.MAX_SAFE_INTEGER };
  const named = new Set<string>();
  for (const condition of policy.conditions) {
    if (condition.kind === 'content-length-range') {
      range = { minBytes: Math.max(range.minBytes, condition.minBytes), maxBytes: Math.min(range.maxBytes, condition.maxBytes) };
      continue;
    }
    named.add(condition.field);
    // A field the form lacks is the empty string: `starts-with ""` allows it, anything else not.
    if (!matches(condition, fields.get(condition.field) ?? '')) throw refused(`Policy Condition failed: ${condition.text}`);
  }
  const extra = [...fields.keys()].filter((name) => !fieldsExemptFromPolicy.has(name) && !name.startsWith('x-ignore-') && !named.has(name));
  if (extra.length > 0) throw refused(`Extra input fields: ${extra.join(', ')}`);
  return range;
}
