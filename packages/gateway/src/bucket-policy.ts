/**
 * S3 bucket policies (PutBucketPolicy): the IAM policy grammar, parsed and validated once when the
 * policy is set, then evaluated for each request. Pure: text in, a typed policy out; a policy and
 * a request in, a decision out. The caller stores the text, builds the request's condition
 * context, and combines the decision with ownership and grants (access-policy.ts).
 *
 * Principals are Tessera access key ids. Every request is signed (there is no anonymous access),
 * so Principal "*" means "any authenticated key". In `{"AWS": ...}` a value names key K as `K`,
 * `arn:aws:iam::<account>:user/K` (a user path before K is allowed) or `arn:aws:iam::K:root`;
 * `{"CanonicalUser": ...}` takes a bare key id, since Tessera's canonical user id is the access
 * key id (access-control.ts). Whether the named keys exist is the caller's check
 * (principalKeyIds).
 *
 * Supported:
 * - Version "2012-10-17" or "2008-10-17" (the default), Id, Statement (an object or a non-empty
 *   array); per statement Sid (unique when non-empty), Effect, Principal/NotPrincipal,
 *   Action/NotAction, Resource/NotResource and Condition. Element names are case-sensitive.
 * - Actions: every S3 action name AWS defines (bucketPolicyActions), matched case-insensitively,
 *   with `*` and `?` wildcards; a wildcard must match at least one known action.
 * - Resources: "*" and `arn:aws:s3:::` ARNs with `*` and `?`, matched case-sensitively. Every
 *   Resource (not NotResource) must be able to name this bucket.
 * - Conditions: String*, Numeric*, Date*, Bool, IpAddress/NotIpAddress (IPv4 and IPv6, CIDR or
 *   single address), Null; the `IfExists` suffix (not on Null); the `ForAnyValue:` and
 *   `ForAllValues:` qualifiers on the string, numeric, date and IP operators.
 * - Evaluation as IAM: an applicable Deny wins over any Allow; 'none' when nothing applies.
 * - Policy variables (Version "2012-10-17" only; in "2008-10-17" policies they are literal text):
 *   `${key}` in Resource/NotResource and in the values of the String* operators stands for the
 *   request's value of condition key `key` (case-insensitive), e.g. `${aws:username}`; with
 *   `${key, 'default'}` the default (`''` is a quote) stands in when the request has no value. A
 *   variable without a value, or with several, makes its pattern match nothing. The value is
 *   literal text: a `*` in it is no wildcard. `${*}`, `${?}` and `${$}` are a literal `*`, `?`
 *   and `$` (in StringLike values and Resource patterns in every version, as before). A `$` that
 *   does not open a well-formed variable is itself.
 *
 * Not supported, on purpose:
 * - Binary*, Arn* operators and the principal kinds Service, Federated: MalformedPolicy.
 * - AWS's "Action does not apply to any resource(s) in statement" check.
 * - Duplicate JSON member names: JSON.parse keeps the last one without telling us.
 */
import { accessKeyIdPatternSource } from '@tessera/rpc';
import { S3Error } from './s3-errors';

/** S3's limit on a bucket policy document ("20 KB"), in UTF-8 bytes. */
export const bucketPolicyMaxBytes = 20 * 1024;

export type PolicyEffect = 'Allow' | 'Deny';

/**
 * The S3 action names a policy may use, with AWS's exact casing (Service Authorization Reference,
 * "Actions defined by Amazon S3"). AWS accepts every one of them in a bucket policy, including
 * those for operations Tessera does not implement, so a policy written for AWS is accepted here.
 */
export const bucketPolicyActions: readonly string[] = [
  's3:AbortMultipartUpload',
  's3:AssociateAccessGrantsIdentityCenter',
  's3:BypassGovernanceRetention',
  's3:CreateAccessGrant',
  's3:CreateAccessGrantsInstance',
  's3:CreateAccessGrantsLocation',
  's3:CreateAccessPoint',
  's3:CreateAccessPointForObjectLambda',
  's3:CreateBucket',
  's3:CreateBucketMetadataTableConfiguration',
  's3:CreateJob',
  's3:CreateMultiRegionAccessPoint',
  's3:CreateStorageLensGroup',
  's3:DeleteAccessGrant',
  's3:DeleteAccessGrantsInstance',
  's3:DeleteAccessGrantsInstanceResourcePolicy',
  's3:DeleteAccessGrantsLocation',
  's3:DeleteAccessPoint',
  's3:DeleteAccessPointForObjectLambda',
  's3:DeleteAccessPointPolicy',
  's3:DeleteAccessPointPolicyForObjectLambda',
  's3:DeleteBucket',
  's3:DeleteBucketMetadataTableConfiguration',
  's3:DeleteBucketPolicy',
  's3:DeleteBucketWebsite',
  's3:DeleteJobTagging',
  's3:DeleteMultiRegionAccessPoint',
  's3:DeleteObject',
  's3:DeleteObjectTagging',
  's3:DeleteObjectVersion',
  's3:DeleteObjectVersionTagging',
  's3:DeleteStorageLensConfiguration',
  's3:DeleteStorageLensConfigurationTagging',
  's3:DeleteStorageLensGroup',
  's3:DescribeJob',
  's3:DescribeMultiRegionAccessPointOperation',
  's3:DissociateAccessGrantsIdentityCenter',
  's3:GetAccelerateConfiguration',
  's3:GetAccessGrant',
  's3:GetAccessGrantsInstance',
  's3:GetAccessGrantsInstanceForPrefix',
  's3:GetAccessGrantsInstanceResourcePolicy',
  's3:GetAccessGrantsLocation',
  's3:GetAccessPoint',
  's3:GetAccessPointConfigurationForObjectLambda',
  's3:GetAccessPointForObjectLambda',
  's3:GetAccessPointPolicy',
  's3:GetAccessPointPolicyForObjectLambda',
  's3:GetAccessPointPolicyStatus',
  's3:GetAccessPointPolicyStatusForObjectLambda',
  's3:GetAccountPublicAccessBlock',
  's3:GetAnalyticsConfiguration',
  's3:GetBucketAcl',
  's3:GetBucketCORS',
  's3:GetBucketLocation',
  's3:GetBucketLogging',
  's3:GetBucketMetadataTableConfiguration',
  's3:GetBucketNotification',
  's3:GetBucketObjectLockConfiguration',
  's3:GetBucketOwnershipControls',
  's3:GetBucketPolicy',
  's3:GetBucketPolicyStatus',
  's3:GetBucketPublicAccessBlock',
  's3:GetBucketRequestPayment',
  's3:GetBucketTagging',
  's3:GetBucketVersioning',
  's3:GetBucketWebsite',
  's3:GetDataAccess',
  's3:GetEncryptionConfiguration',
  's3:GetIntelligentTieringConfiguration',
  's3:GetInventoryConfiguration',
  's3:GetJobTagging',
  's3:GetLifecycleConfiguration',
  's3:GetMetricsConfiguration',
  's3:GetMultiRegionAccessPoint',
  's3:GetMultiRegionAccessPointPolicy',
  's3:GetMultiRegionAccessPointPolicyStatus',
  's3:GetMultiRegionAccessPointRoutes',
  's3:GetObject',
  's3:GetObjectAcl',
  's3:GetObjectAttributes',
  's3:GetObjectLegalHold',
  's3:GetObjectRetention',
  's3:GetObjectTagging',
  's3:GetObjectTorrent',
  's3:GetObjectVersion',
  's3:GetObjectVersionAcl',
  's3:GetObjectVersionAttributes',
  's3:GetObjectVersionForReplication',
  's3:GetObjectVersionTagging',
  's3:GetObjectVersionTorrent',
  's3:GetReplicationConfiguration',
  's3:GetStorageLensConfiguration',
  's3:GetStorageLensConfigurationTagging',
  's3:GetStorageLensDashboard',
  's3:GetStorageLensGroup',
  's3:InitiateReplication',
  's3:ListAccessGrants',
  's3:ListAccessGrantsInstances',
  's3:ListAccessGrantsLocations',
  's3:ListAccessPoints',
  's3:ListAccessPointsForObjectLambda',
  's3:ListAllMyBuckets',
  's3:ListBucket',
  's3:ListBucketMultipartUploads',
  's3:ListBucketVersions',
  's3:ListJobs',
  's3:ListMultiRegionAccessPoints',
  's3:ListMultipartUploadParts',
  's3:ListStorageLensConfigurations',
  's3:ListStorageLensGroups',
  's3:ListTagsForResource',
  's3:ObjectOwnerOverrideToBucketOwner',
  's3:PutAccelerateConfiguration',
  's3:PutAccessGrantsInstanceResourcePolicy',
  's3:PutAccessPointConfigurationForObjectLambda',
  's3:PutAccessPointPolicy',
  's3:PutAccessPointPolicyForObjectLambda',
  's3:PutAccessPointPublicAccessBlock',
  's3:PutAccountPublicAccessBlock',
  's3:PutAnalyticsConfiguration',
  's3:PutBucketAcl',
  's3:PutBucketCORS',
  's3:PutBucketLogging',
  's3:PutBucketNotification',
  's3:PutBucketObjectLockConfiguration',
  's3:PutBucketOwnershipControls',
  's3:PutBucketPolicy',
  's3:PutBucketPublicAccessBlock',
  's3:PutBucketRequestPayment',
  's3:PutBucketTagging',
  's3:PutBucketVersioning',
  's3:PutBucketWebsite',
  's3:PutEncryptionConfiguration',
  's3:PutIntelligentTieringConfiguration',
  's3:PutInventoryConfiguration',
  's3:PutJobTagging',
  's3:PutLifecycleConfiguration',
  's3:PutMetricsConfiguration',
  's3:PutMultiRegionAccessPointPolicy',
  's3:PutObject',
  's3:PutObjectAcl',
  's3:PutObjectLegalHold',
  's3:PutObjectRetention',
  's3:PutObjectTagging',
  's3:PutObjectVersionAcl',
  's3:PutObjectVersionTagging',
  's3:PutReplicationConfiguration',
  's3:PutStorageLensConfiguration',
  's3:PutStorageLensConfigurationTagging',
  's3:ReplicateDelete',
  's3:ReplicateObject',
  's3:ReplicateTags',
  's3:RestoreObject',
  's3:SubmitMultiRegionAccessPointRoutes',
  's3:TagResource',
  's3:UntagResource',
  's3:UpdateAccessGrantsLocation',
  's3:UpdateJobPriority',
  's3:UpdateJobStatus',
  's3:UpdateStorageLensGroup',
];

/** Action names compare case-insensitively (IAM), so lookups use the lower-case form. */
const knownActionsLowerCase: readonly string[] = bucketPolicyActions.map((action) => action.toLowerCase());
const knownActionSetLowerCase: ReadonlySet<string> = new Set(knownActionsLowerCase);

// ---------------------------------------------------------------------------------------------
// Types: the parsed, normalized policy.

/**
 * One element of a compiled wildcard pattern: a literal character (code point), `?`, `*`, or a
 * policy variable (`key` lower case; `fallback` the default, when the variable gives one).
 */
export type WildcardUnit =
  | { readonly kind: 'char'; readonly char: string }
  | { readonly kind: 'any-one' }
  | { readonly kind: 'any-run' }
  | { readonly kind: 'variable'; readonly key: string; readonly fallback: string | undefined };

/** A `*`/`?` pattern compiled once at parse time. `source` is the text as the policy wrote it. */
export interface WildcardPattern {
  readonly source: string;
  readonly ignoreCase: boolean;
  readonly units: readonly WildcardUnit[];
  /** Some unit is a variable: the pattern is resolved against each request's context. */
  readonly hasVariables: boolean;
}

/** The condition context of a request (PolicyRequest.context): lower-case keys, their values. */
export type ConditionContext = ReadonlyMap<string, readonly string[]>;

/** Principal or NotPrincipal. */
export interface PolicyPrincipals {
  /** NotPrincipal: the statement applies to every key this does NOT name. */
  readonly negated: boolean;
  /** Some value is "*": every (authenticated) key. */
  readonly anyone: boolean;
  /** The key ids named, bare or taken out of user/root ARNs, without duplicates. */
  readonly keyIds: readonly string[];
}

/** Action/NotAction or Resource/NotResource: the patterns, and whether the element is the Not form. */
export interface PolicyPatterns {
  readonly negated: boolean;
  readonly patterns: readonly WildcardPattern[];
}

export type ConditionQualifier = 'ForAnyValue' | 'ForAllValues';

const conditionOperatorNames = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'IpAddress', 'NotIpAddress', 'Null',
] as const;

/** A condition operator without its qualifier and IfExists suffix. */
export type ConditionOperatorName = (typeof conditionOperatorNames)[number];

/** One key under one operator: `{"StringLike": {"s3:prefix": ["home/*"]}}` is one condition. */
export interface PolicyCondition {
  /** The operator as written, e.g. 'ForAnyValue:StringLikeIfExists'. */
  readonly operator: string;
  readonly baseOperator: ConditionOperatorName;
  readonly qualifier: ConditionQualifier | undefined;
  readonly ifExists: boolean;
  /** StringNotEquals, StringNotEqualsIgnoreCase, StringNotLike, NumericNotEquals, DateNotEquals, NotIpAddress. */
  readonly negated: boolean;
  /** The condition key, lower case (keys are case-insensitive). */
  readonly key: string;
  /** The policy's values as strings (Bool and Null: "true"/"false"). */
  readonly values: readonly string[];
  /** The condition keys the values' policy variables name (lower case), once each. */
  readonly variableKeys: readonly string[];
  /**
   * Whether one request value matches at least one of `values`, in the operator's positive sense
   * (StringNotLike tests "like" here; the negation is applied by the evaluation). Unused for Null.
   * `context` resolves policy variables in the values.
   */
  readonly matchesAny: (requestValue: string, context: ConditionContext) => boolean;
}

export interface PolicyStatement {
  /** Undefined when the statement has no Sid. */
  readonly sid: string | undefined;
  readonly effect: PolicyEffect;
  readonly principals: PolicyPrincipals;
  readonly actions: PolicyPatterns;
  readonly resources: PolicyPatterns;
  /** All must hold for the statement to apply; empty when it has no Condition. */
  readonly conditions: readonly PolicyCondition[];
}

export interface BucketPolicy {
  readonly version: string;
  readonly statements: readonly PolicyStatement[];
  /**
   * Every condition key the policy reads (lower case): those its conditions test and those its
   * policy variables name. The caller need only gather these (some cost a read, such as
   * `s3:existingobjecttag/<tag>`).
   */
  readonly contextKeys: ReadonlySet<string>;
}

export interface PolicyRequest {
  /** The caller's access key id. */
  readonly principal: string;
  /** E.g. 's3:GetObject'; compared case-insensitively. */
  readonly action: string;
  /** 'arn:aws:s3:::<bucket>' or 'arn:aws:s3:::<bucket>/<key>'. */
  readonly resource: string;
  /**
   * Condition context: keys lower-cased ('aws:sourceip', 'aws:securetransport', 's3:prefix', ...),
   * each with its value(s). A key absent here, or present with no values, is absent from the request.
   */
  readonly context: ConditionContext;
}

/** 'deny': an applicable Deny; 'allow': an applicable Allow and no Deny; 'none': nothing applies. */
export type PolicyDecision = 'deny' | 'allow' | 'none';

// ---------------------------------------------------------------------------------------------
// Errors and JSON helpers.

function malformed(message: string): S3Error {
  return new S3Error('MalformedPolicy', { message });
}

type JsonObject = Readonly<Record<string, unknown>>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A member of a parsed JSON object; own members only, so "toString" is not a field. */
function member(object: JsonObject, name: string): unknown {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}

function checkKnownFields(object: JsonObject, known: readonly string[]): void {
  const unknown = Object.keys(object).find((name) => !known.includes(name));
  if (unknown !== undefined) throw malformed(`Unknown field ${unknown}`);
}

/** A string, or a non-empty array of strings (the IAM grammar's `<x_block>` shapes). */
function stringList(value: unknown, element: string): readonly string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((entry): entry is string => typeof entry === 'string')) return value;
  throw malformed(`${element} must be a string or a non-empty array of strings`);
}

// ---------------------------------------------------------------------------------------------
// Wildcard patterns: `*` is any run of characters (including none, and including '/'), `?` exactly
// one character (code point). With escapes on, `${*}`, `${?}` and `${$}` are literal characters;
// with variables on, `${key}` and `${key, 'default'}` are policy variables.

const wildcardEscapes: ReadonlyMap<string, string> = new Map([['${*}', '*'], ['${?}', '?'], ['${$}', '$']]);
const anyOne: WildcardUnit = { kind: 'any-one' };
const anyRun: WildcardUnit = { kind: 'any-run' };

interface CompileOptions {
  readonly escapes: boolean;
  readonly ignoreCase: boolean;
  /** `*` and `?` are wildcards (StringLike, Resource, Action); otherwise literal (StringEquals). */
  readonly wildcards: boolean;
  readonly variables: boolean;
}

/** `${ key }` or `${ key, 'default' }` at the start of `text`: a condition key name, then an optional quoted default. */
const policyVariablePattern = /^\$\{\s*([A-Za-z0-9:_./-]+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?\}/;

function compileWildcard(source: string, options: CompileOptions): WildcardPattern {
  const text = options.ignoreCase ? source.toLowerCase() : source;
  const units: WildcardUnit[] = [];
  let hasVariables = false;
  let index = 0;
  while (index < text.length) {
    const escape = options.escapes ? text.slice(index, index + 4) : '';
    const escaped = wildcardEscapes.get(escape);
    if (escaped !== undefined) {
      units.push({ kind: 'char', char: escaped });
      index += escape.length;
      continue;
    }
    const variable = options.variables && text.startsWith('${', index) ? policyVariablePattern.exec(text.slice(index)) : null;
    if (variable !== null) {
      units.push({ kind: 'variable', key: (variable[1] ?? '').toLowerCase(), fallback: variable[2]?.replaceAll("''", "'") });
      hasVariables = true;
      index += variable[0].length;
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(index) ?? 0);
    units.push(options.wildcards && char === '*' ? anyRun : options.wildcards && char === '?' ? anyOne : { kind: 'char', char });
    index += char.length;
  }
  return { source, ignoreCase: options.ignoreCase, units, hasVariables };
}

/**
 * The pattern with its variables replaced by the request's values (literal characters), or
 * undefined when a variable has no value (nor a default) or several: such a pattern matches nothing.
 */
function resolveVariables(pattern: WildcardPattern, context: ConditionContext): WildcardPattern | undefined {
  if (!pattern.hasVariables) return pattern;
  const units: WildcardUnit[] = [];
  for (const unit of pattern.units) {
    if (unit.kind !== 'variable') {
      units.push(unit);
      continue;
    }
    const values = context.get(unit.key) ?? [];
    const value = values.length === 1 ? values[0] : values.length === 0 ? unit.fallback : undefined;
    if (value === undefined) return undefined;
    for (const char of pattern.ignoreCase ? value.toLowerCase() : value) units.push({ kind: 'char', char });
  }
  return { ...pattern, units, hasVariables: false };
}

/** The variable keys a compiled pattern names. */
function variableKeysOf(pattern: WildcardPattern): string[] {
  return pattern.units.flatMap((unit) => (unit.kind === 'variable' ? [unit.key] : []));
}

/** A pattern without wildcards, resolved to its text; undefined when a variable has no value. */
function resolvedText(pattern: WildcardPattern, context: ConditionContext): string | undefined {
  const resolved = resolveVariables(pattern, context);
  return resolved?.units.map((unit) => (unit.kind === 'char' ? unit.char : '')).join('');
}

/**
 * Whether `value` matches `pattern`. Greedy with backtracking to the last `*` only, which is
 * enough for `*`/`?` patterns and keeps the cost at O(pattern × value) at worst.
 */
function wildcardMatches(pattern: WildcardPattern, value: string): boolean {
  const units = pattern.units;
  const chars = Array.from(pattern.ignoreCase ? value.toLowerCase() : value);
  let unitIndex = 0;
  let charIndex = 0;
  let starUnitIndex = -1;
  let starCharIndex = 0;
  while (charIndex < chars.length) {
    const unit = units[unitIndex];
    if (unit !== undefined && (unit.kind === 'any-one' || (unit.kind === 'char' && unit.char === chars[charIndex]))) {
      unitIndex += 1;
      charIndex += 1;
    } else if (unit?.kind === 'any-run') {
      starUnitIndex = unitIndex;
      starCharIndex = charIndex;
      unitIndex += 1;
    } else if (starUnitIndex >= 0) {
      // Let the last `*` take one more character and retry from just after it.
      starCharIndex += 1;
      charIndex = starCharIndex;
      unitIndex = starUnitIndex + 1;
    } else {
      return false;
    }
  }
  while (units[unitIndex]?.kind === 'any-run') unitIndex += 1;
  return unitIndex === units.length;
}

// ---------------------------------------------------------------------------------------------
// IP addresses. Addresses are byte arrays (4 or 16); an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
// is treated as the IPv4 address, so a client on a dual-stack socket matches IPv4 ranges.

interface IpRange {
  readonly bytes: readonly number[];
  readonly prefixBits: number;
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part))) return undefined;
  const bytes = parts.map(Number);
  return bytes.every((byte) => byte <= 255) ? bytes : undefined;
}

/** The 16-bit groups of one side of `::`; an IPv4 tail (last group only) counts as two groups. */
function ipv6Groups(text: string, allowIpv4Tail: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    if (allowIpv4Tail && index === parts.length - 1 && part.includes('.')) {
      const ipv4 = parseIpv4(part);
      if (ipv4 === undefined) return undefined;
      groups.push(ipv4[0]! * 256 + ipv4[1]!, ipv4[2]! * 256 + ipv4[3]!);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

function parseIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = ipv6Groups(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? ipv6Groups(halves[1] ?? '', true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

function isIpv4Mapped(bytes: readonly number[]): boolean {
  return bytes.length === 16 && bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/** An address's bytes: 4 for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; undefined when not an address. */
function parseIpAddress(text: string): readonly number[] | undefined {
  const bytes = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  if (bytes === undefined) return undefined;
  return isIpv4Mapped(bytes) ? bytes.slice(12) : bytes;
}

/** A CIDR block or a single address (a /32 or /128). */
function parseIpRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  const raw = addressText.includes(':') ? parseIpv6(addressText) : parseIpv4(addressText);
  if (raw === undefined || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) return undefined;
  const prefixBits = prefixText === undefined ? raw.length * 8 : Number(prefixText);
  if (prefixBits > raw.length * 8) return undefined;
  // ::ffff:10.0.0.0/104 is 10.0.0.0/8: keep mapped ranges comparable with IPv4 requests.
  if (isIpv4Mapped(raw) && prefixBits >= 96) return { bytes: raw.slice(12), prefixBits: prefixBits - 96 };
  return { bytes: raw, prefixBits };
}

function ipRangeContains(range: IpRange, address: readonly number[]): boolean {
  if (range.bytes.length !== address.length) return false;
  for (let bit = 0; bit < range.prefixBits; bit += 1) {
    const byteIndex = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((range.bytes[byteIndex] ?? 0) & mask) !== ((address[byteIndex] ?? 0) & mask)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Numbers and dates in conditions.

function parseNumber(text: string): number | undefined {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}

/** ISO 8601: a date, or a date and time with optional seconds, fraction and zone (none: UTC). */
const isoDatePattern = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function zoneOffsetMs(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === 'Z') return 0;
  const digits = zone.replace(':', '');
  const hours = Number(digits.slice(1, 3));
  const minutes = Number(digits.slice(3, 5));
  if (hours > 23 || minutes > 59) return undefined;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/**
 * A date condition value (policy or request) as an instant, in ms since the epoch: ISO 8601, or a
 * bare number of epoch seconds (aws:EpochTime style). Undefined when it is neither.
 */
function parseDateMs(text: string): number | undefined {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const match = isoDatePattern.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone] = match;
  const fields = [Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)] as const;
  const ms = Date.UTC(...fields, Math.floor(Number(`0${fraction}`) * 1000));
  // Date.UTC rolls 2026-02-30 over into March: only a real date and time reads back the same.
  const check = new Date(ms);
  if (check.getUTCMonth() !== fields[1] || check.getUTCDate() !== fields[2] || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) return undefined;
  const offsetMs = zoneOffsetMs(zone);
  return offsetMs === undefined ? undefined : ms - offsetMs;
}

// ---------------------------------------------------------------------------------------------
// Condition operators: one entry per base operator. `compile` turns the policy's values into the
// test of one request value ("matches some policy value"), refusing values of the wrong kind.

type ValueTest = (requestValue: string, context: ConditionContext) => boolean;
type Compare = (request: number, policy: number) => boolean;

interface OperatorSpec {
  readonly negated: boolean;
  /** Whether ForAnyValue:/ForAllValues: may qualify it (not Bool, not Null). */
  readonly qualifiable: boolean;
  /** Whether its values may hold policy variables (the String* operators). */
  readonly takesVariables: boolean;
  /** `variables`: the policy's version has policy variables and the operator takes them. */
  readonly compile: (values: readonly string[], where: string, variables: boolean) => ValueTest;
}

const equal: Compare = (request, policy) => request === policy;
const less: Compare = (request, policy) => request < policy;
const lessOrEqual: Compare = (request, policy) => request <= policy;
const greater: Compare = (request, policy) => request > policy;
const greaterOrEqual: Compare = (request, policy) => request >= policy;

function invalidValue(where: string, value: string, expected: string): S3Error {
  return malformed(`Invalid Condition value for ${where}: "${value}" is not ${expected}`);
}

/** StringEquals values: literal, except that with variables on a value holding `${` is a template. */
function exactStrings(values: readonly string[], _where: string, variables: boolean, ignoreCase = false): ValueTest {
  const fold = (text: string): string => (ignoreCase ? text.toLowerCase() : text);
  const templates = (variables ? values : [])
    .map((value) => compileWildcard(value, { escapes: true, ignoreCase, wildcards: false, variables: true }))
    .filter((pattern) => pattern.hasVariables);
  const templateSources = new Set(templates.map((pattern) => pattern.source));
  const set = new Set(values.filter((value) => !templateSources.has(value)).map(fold));
  if (templates.length === 0) return (requestValue) => set.has(fold(requestValue));
  return (requestValue, context) => set.has(fold(requestValue)) || templates.some((template) => resolvedText(template, context) === fold(requestValue));
}

function caseInsensitiveStrings(values: readonly string[], where: string, variables: boolean): ValueTest {
  return exactStrings(values, where, variables, true);
}

function likeStrings(values: readonly string[], _where: string, variables: boolean): ValueTest {
  const patterns = values.map((value) => compileWildcard(value, { escapes: true, ignoreCase: false, wildcards: true, variables }));
  return (requestValue, context) =>
    patterns.some((pattern) => {
      const resolved = resolveVariables(pattern, context);
      return resolved !== undefined && wildcardMatches(resolved, requestValue);
    });
}

/** Numbers and dates: parse each policy value up front; a request value that does not parse matches nothing. */
function compared(parse: (text: string) => number | undefined, expected: string, compare: Compare): OperatorSpec['compile'] {
  return (values, where) => {
    const policyNumbers = values.map((value) => {
      const number = parse(value);
      if (number === undefined) throw invalidValue(where, value, expected);
      return number;
    });
    return (requestValue) => {
      const number = parse(requestValue);
      return number !== undefined && policyNumbers.some((policyNumber) => compare(number, policyNumber));
    };
  };
}

function booleans(values: readonly string[], where: string): ValueTest {
  const bad = values.find((value) => value !== 'true' && value !== 'false');
  if (bad !== undefined) throw invalidValue(where, bad, 'true or false');
  // The policy's values are already lower case; the request's are lower-cased per test.
  return caseInsensitiveStrings(values, where, false);
}

/** Null looks only at whether the key is present (conditionHolds); its values must still be true/false. */
function presenceChecks(values: readonly string[], where: string): ValueTest {
  booleans(values, where);
  return () => false;
}

function ipRanges(values: readonly string[], where: string): ValueTest {
  const ranges = values.map((value) => {
    const range = parseIpRange(value);
    if (range === undefined) throw invalidValue(where, value, 'an IP address or CIDR block');
    return range;
  });
  return (requestValue) => {
    const address = parseIpAddress(requestValue);
    return address !== undefined && ranges.some((range) => ipRangeContains(range, address));
  };
}

const numeric = (compare: Compare) => compared(parseNumber, 'a number', compare);
const date = (compare: Compare) => compared(parseDateMs, 'an ISO 8601 date or epoch seconds', compare);
const positive = (compile: OperatorSpec['compile'], takesVariables = false): OperatorSpec => ({ negated: false, qualifiable: true, takesVariables, compile });
const negative = (compile: OperatorSpec['compile'], takesVariables = false): OperatorSpec => ({ negated: true, qualifiable: true, takesVariables, compile });

const operatorSpecs: Readonly<Record<ConditionOperatorName, OperatorSpec>> = {
  StringEquals: positive(exactStrings, true),
  StringNotEquals: negative(exactStrings, true),
  StringEqualsIgnoreCase: positive(caseInsensitiveStrings, true),
  StringNotEqualsIgnoreCase: negative(caseInsensitiveStrings, true),
  StringLike: positive(likeStrings, true),
  StringNotLike: negative(likeStrings, true),
  NumericEquals: positive(numeric(equal)),
  NumericNotEquals: negative(numeric(equal)),
  NumericLessThan: positive(numeric(less)),
  NumericLessThanEquals: positive(numeric(lessOrEqual)),
  NumericGreaterThan: positive(numeric(greater)),
  NumericGreaterThanEquals: positive(numeric(greaterOrEqual)),
  DateEquals: positive(date(equal)),
  DateNotEquals: negative(date(equal)),
  DateLessThan: positive(date(less)),
  DateLessThanEquals: positive(date(lessOrEqual)),
  DateGreaterThan: positive(date(greater)),
  DateGreaterThanEquals: positive(date(greaterOrEqual)),
  Bool: { negated: false, qualifiable: false, takesVariables: false, compile: booleans },
  IpAddress: positive(ipRanges),
  NotIpAddress: negative(ipRanges),
  Null: { negated: false, qualifiable: false, takesVariables: false, compile: presenceChecks },
};

function isOperatorName(name: string): name is ConditionOperatorName {
  return (conditionOperatorNames as readonly string[]).includes(name);
}

interface OperatorParts {
  readonly baseOperator: ConditionOperatorName;
  readonly qualifier: ConditionQualifier | undefined;
  readonly ifExists: boolean;
}

/** Splits `ForAnyValue:StringLikeIfExists` into its parts; names are case-sensitive, as in IAM. */
function parseOperatorName(operator: string): OperatorParts {
  const invalid = (): S3Error => malformed(`Invalid Condition type : ${operator}`);
  const qualified = /^(ForAnyValue|ForAllValues):(.+)$/.exec(operator);
  const qualifier = qualified === null ? undefined : (qualified[1] as ConditionQualifier);
  const rest = qualified === null ? operator : qualified[2] ?? '';
  const ifExists = rest.endsWith('IfExists');
  const base = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  if (!isOperatorName(base)) throw invalid();
  if (base === 'Null' && ifExists) throw invalid();
  if (qualifier !== undefined && !operatorSpecs[base].qualifiable) throw invalid();
  return { baseOperator: base, qualifier, ifExists };
}

/** A condition value: a string, number or boolean, or a non-empty array of them; as strings. */
function conditionValues(value: unknown, where: string): readonly string[] {
  const entries = Array.isArray(value) ? value : [value];
  const scalar = (entry: unknown): entry is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof entry);
  if (entries.length === 0 || !entries.every(scalar)) {
    throw malformed(`Invalid Condition value for ${where}: expected a string, number or boolean, or a non-empty array of them`);
  }
  return entries.map((entry) => String(entry));
}

function parseConditionBlock(operator: string, block: unknown, variables: boolean): PolicyCondition[] {
  const parts = parseOperatorName(operator);
  if (!isJsonObject(block)) throw malformed(`Condition operator ${operator} must map condition keys to values`);
  const spec = operatorSpecs[parts.baseOperator];
  return Object.entries(block).map(([rawKey, rawValues]) => {
    if (rawKey === '') throw malformed(`Empty condition key under ${operator}`);
    const where = `${operator} ${rawKey}`;
    const asWritten = conditionValues(rawValues, where);
    const isBoolean = parts.baseOperator === 'Bool' || parts.baseOperator === 'Null';
    const values = isBoolean ? asWritten.map((value) => value.toLowerCase()) : asWritten;
    const takesVariables = variables && spec.takesVariables;
    const matchesAny = spec.compile(values, where, takesVariables);
    const variableKeys = takesVariables
      ? [...new Set(values.flatMap((value) => variableKeysOf(compileWildcard(value, { escapes: true, ignoreCase: false, wildcards: false, variables: true }))))]
      : [];
    return { operator, ...parts, negated: spec.negated, key: rawKey.toLowerCase(), values, variableKeys, matchesAny };
  });
}

function parseConditions(value: unknown, variables: boolean): readonly PolicyCondition[] {
  if (value === undefined) return [];
  if (!isJsonObject(value)) throw malformed('Condition must be an object of condition operators');
  return Object.entries(value).flatMap(([operator, block]) => parseConditionBlock(operator, block, variables));
}

// ---------------------------------------------------------------------------------------------
// Principals, actions, resources.

/** Tessera access key ids (@tessera/rpc), bare or in a root or user ARN. */
const keyIdPattern = new RegExp(`^${accessKeyIdPatternSource}$`);
const rootArnPattern = new RegExp(`^arn:aws:iam::(${accessKeyIdPatternSource}):root$`);
const userArnPattern = new RegExp(`^arn:aws:iam::[^:]*:user/(?:[^:]*/)?(${accessKeyIdPatternSource})$`);

function invalidPrincipal(value: unknown): S3Error {
  return malformed(`Invalid principal in policy: ${describe(value)}`);
}

/** The key id a principal value names; `kind` is "AWS" or "CanonicalUser" (bare ids only). */
function principalKeyId(kind: string, value: string): string {
  if (keyIdPattern.test(value)) return value;
  const arnMatch = kind === 'AWS' ? rootArnPattern.exec(value) ?? userArnPattern.exec(value) : null;
  if (arnMatch?.[1] === undefined) throw invalidPrincipal(value);
  return arnMatch[1];
}

function parsePrincipals(value: unknown, negated: boolean): PolicyPrincipals {
  if (value === '*') return { negated, anyone: true, keyIds: [] };
  if (!isJsonObject(value) || Object.keys(value).length === 0) throw invalidPrincipal(value);
  let anyone = false;
  const keyIds = new Set<string>();
  for (const [kind, entries] of Object.entries(value)) {
    if (kind !== 'AWS' && kind !== 'CanonicalUser') throw invalidPrincipal(kind);
    for (const entry of stringList(entries, `Principal ${kind}`)) {
      if (entry === '*') anyone = true;
      else keyIds.add(principalKeyId(kind, entry));
    }
  }
  return { negated, anyone, keyIds: [...keyIds] };
}

function parseAction(action: string): WildcardPattern {
  const invalid = (): S3Error => malformed(`Policy has invalid action: ${action}`);
  if (action !== '*' && !/^s3:./i.test(action)) throw invalid();
  const pattern = compileWildcard(action, { escapes: false, ignoreCase: true, wildcards: true, variables: false });
  const isPattern = /[*?]/.test(action);
  const known = isPattern ? knownActionsLowerCase.some((name) => wildcardMatches(pattern, name)) : knownActionSetLowerCase.has(action.toLowerCase());
  if (!known) throw invalid();
  return pattern;
}

const s3ArnPrefix = 'arn:aws:s3:::';

/**
 * A Resource must be able to name `bucket`: its bucket part (before the first '/') matches it
 * (not checked when the bucket part holds a policy variable: only requests can tell).
 */
function parseResource(resource: string, bucket: string, negated: boolean, variables: boolean): WildcardPattern {
  const invalid = (): S3Error => malformed(`Policy has invalid resource: ${resource}`);
  const options: CompileOptions = { escapes: true, ignoreCase: false, wildcards: true, variables };
  if (resource === '*') return compileWildcard(resource, options);
  if (!resource.startsWith(s3ArnPrefix) || resource.length === s3ArnPrefix.length) throw invalid();
  if (!negated) {
    const path = resource.slice(s3ArnPrefix.length);
    const slash = path.indexOf('/');
    const bucketPattern = compileWildcard(slash === -1 ? path : path.slice(0, slash), options);
    if (!bucketPattern.hasVariables && !wildcardMatches(bucketPattern, bucket)) throw invalid();
  }
  return compileWildcard(resource, options);
}

// ---------------------------------------------------------------------------------------------
// Statements and the policy.

const policyFields = ['Version', 'Id', 'Statement'];
const statementFields = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'];
const policyVersions = ['2012-10-17', '2008-10-17'];
/** IAM's default when a policy has no Version. */
const defaultPolicyVersion = '2008-10-17';
/** The Version that has policy variables. */
const variablesVersion = '2012-10-17';

function contextKeysOf(statements: readonly PolicyStatement[]): ReadonlySet<string> {
  const keys = new Set<string>();
  for (const statement of statements) {
    for (const condition of statement.conditions) {
      keys.add(condition.key);
      for (const key of condition.variableKeys) keys.add(key);
    }
    for (const pattern of statement.resources.patterns) for (const key of variableKeysOf(pattern)) keys.add(key);
  }
  return keys;
}

/** Exactly one of `name` and `Not<name>`: which one, and its value. */
function oneOf(statement: JsonObject, name: string): { readonly negated: boolean; readonly value: unknown } {
  const notName = `Not${name}`;
  const has = Object.hasOwn(statement, name);
  const hasNot = Object.hasOwn(statement, notName);
  if (has && hasNot) throw malformed(`Statement cannot have both ${name} and ${notName}`);
  if (!has && !hasNot) throw malformed(`Missing required field ${name}`);
  return has ? { negated: false, value: statement[name] } : { negated: true, value: statement[notName] };
}

function parseEffect(value: unknown): PolicyEffect {
  if (value === undefined) throw malformed('Missing required field Effect');
  if (value !== 'Allow' && value !== 'Deny') throw malformed(`Invalid effect: ${describe(value)}`);
  return value;
}

function parseSid(value: unknown): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw malformed(`Sid must be a string: ${describe(value)}`);
  return value;
}

/** `variables`: the policy's Version has policy variables (2012-10-17). */
function parseStatement(value: unknown, bucket: string, variables: boolean): PolicyStatement {
  if (!isJsonObject(value)) throw malformed('Each Statement must be a JSON object');
  checkKnownFields(value, statementFields);
  const sid = parseSid(member(value, 'Sid'));
  const effect = parseEffect(member(value, 'Effect'));
  const principal = oneOf(value, 'Principal');
  const action = oneOf(value, 'Action');
  const resource = oneOf(value, 'Resource');
  return {
    sid,
    effect,
    principals: parsePrincipals(principal.value, principal.negated),
    actions: { negated: action.negated, patterns: stringList(action.value, action.negated ? 'NotAction' : 'Action').map(parseAction) },
    resources: {
      negated: resource.negated,
      patterns: stringList(resource.value, resource.negated ? 'NotResource' : 'Resource').map((entry) => parseResource(entry, bucket, resource.negated, variables)),
    },
    conditions: parseConditions(member(value, 'Condition'), variables),
  };
}

function parseJsonObject(text: string): JsonObject {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw malformed('Policies must be valid JSON and the first byte must be \'{\'');
  }
  if (!isJsonObject(document)) throw malformed('Policies must be valid JSON and the first byte must be \'{\'');
  return document;
}

function parseVersion(value: unknown): string {
  if (value === undefined) return defaultPolicyVersion;
  if (typeof value !== 'string' || !policyVersions.includes(value)) {
    throw malformed(`Invalid policy Version ${describe(value)}: use "2012-10-17" or "2008-10-17"`);
  }
  return value;
}

/** Sids need not be given, but two statements may not share one (an empty Sid counts as none). */
function checkUniqueSids(statements: readonly PolicyStatement[]): void {
  const seen = new Set<string>();
  for (const { sid } of statements) {
    if (sid === undefined || sid === '') continue;
    if (seen.has(sid)) throw malformed(`Statement IDs (SID) in a single policy must be unique: ${sid}`);
    seen.add(sid);
  }
}

/**
 * Parses and validates the policy `text` for bucket `bucket` (PutBucketPolicy). Throws
 * S3Error('MalformedPolicy') naming the first problem found.
 */
export function parseBucketPolicy(text: string, bucket: string): BucketPolicy {
  if (Buffer.byteLength(text, 'utf8') > bucketPolicyMaxBytes) throw malformed('Policy exceeds the maximum allowed document size.');
  const document = parseJsonObject(text);
  checkKnownFields(document, policyFields);
  const version = parseVersion(member(document, 'Version'));
  const id = member(document, 'Id');
  if (id !== undefined && typeof id !== 'string') throw malformed('Id must be a string');
  const statementValue = member(document, 'Statement');
  if (statementValue === undefined) throw malformed('Missing required field Statement');
  const entries = Array.isArray(statementValue) ? statementValue : [statementValue];
  if (entries.length === 0) throw malformed('Statement must be an object or a non-empty array of objects');
  const statements = entries.map((entry) => parseStatement(entry, bucket, version === variablesVersion));
  checkUniqueSids(statements);
  return { version, statements, contextKeys: contextKeysOf(statements) };
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

/**
 * One condition against the request context. A key absent from the request (IAM "Condition
 * operators", Important box): the condition is false, "If the policy condition requires that the
 * key is not matched, such as StringNotLike ... and the right key is not present, the condition is
 * true. This logic applies to all condition operators except ...IfExists and Null check." So:
 * IfExists → true; Null checks presence; negated operators → true; ForAllValues → true ("also
 * returns true if there are no context keys in the request"); ForAnyValue → false; others → false.
 */
function conditionHolds(condition: PolicyCondition, context: ConditionContext): boolean {
  const requestValues = context.get(condition.key) ?? [];
  const present = requestValues.length > 0;
  if (condition.baseOperator === 'Null') return condition.values.some((value) => (value === 'true') === !present);
  if (!present) {
    if (condition.ifExists || condition.qualifier === 'ForAllValues') return true;
    if (condition.qualifier === 'ForAnyValue') return false;
    return condition.negated;
  }
  // Per request value: positive operators hold when it matches some policy value, negated ones
  // when it matches none (several policy values are OR'd; under a negated operator, NOR'd).
  const matches = (value: string): boolean => condition.matchesAny(value, context);
  const holdsFor = (value: string): boolean => matches(value) !== condition.negated;
  if (condition.qualifier === 'ForAllValues') return requestValues.every(holdsFor);
  if (condition.qualifier === 'ForAnyValue') return requestValues.some(holdsFor);
  const anyMatch = requestValues.some(matches);
  return condition.negated ? !anyMatch : anyMatch;
}

function principalsMatch(principals: PolicyPrincipals, keyId: string): boolean {
  const named = principals.anyone || principals.keyIds.includes(keyId);
  return named !== principals.negated;
}

function patternsMatch(patterns: PolicyPatterns, value: string, context: ConditionContext): boolean {
  const matched = patterns.patterns.some((pattern) => {
    const resolved = resolveVariables(pattern, context);
    return resolved !== undefined && wildcardMatches(resolved, value);
  });
  return matched !== patterns.negated;
}

function statementApplies(statement: PolicyStatement, request: PolicyRequest): boolean {
  return (
    principalsMatch(statement.principals, request.principal) &&
    patternsMatch(statement.actions, request.action, request.context) &&
    patternsMatch(statement.resources, request.resource, request.context) &&
    statement.conditions.every((condition) => conditionHolds(condition, request.context))
  );
}

/** The policy's decision for one request: an applicable Deny wins, then an applicable Allow. */
export function evaluateBucketPolicy(policy: BucketPolicy, request: PolicyRequest): PolicyDecision {
  let allowed = false;
  for (const statement of policy.statements) {
    if (!statementApplies(statement, request)) continue;
    if (statement.effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

/**
 * GetBucketPolicyStatus IsPublic: some Allow without a Condition grants to every key, by Principal
 * "*" / {"AWS": "*"} or by a NotPrincipal that does not exclude "*" (it allows every key but a few).
 */
export function isPolicyPublic(policy: BucketPolicy): boolean {
  return policy.statements.some(
    (statement) => statement.effect === 'Allow' && statement.conditions.length === 0 && statement.principals.anyone !== statement.principals.negated,
  );
}

/** The key ids the policy names in Principal and NotPrincipal (bare or from ARNs), once each, in order. */
export function principalKeyIds(policy: BucketPolicy): string[] {
  return [...new Set(policy.statements.flatMap((statement) => statement.principals.keyIds))];
}
