import type { CorsRule as CorsRuleWire, CorsRule__Output as CorsRuleWireOutput } from '@tessera/proto/generated/tessera/metadata/v1/CorsRule';

/**
 * One CORSRule of a bucket's CORS configuration, as S3 clients give it: the metadata catalogue
 * stores it, the gateway evaluates it. On the wire (`metadata.proto` `CorsRule`) an absent ID is
 * the empty string and an absent MaxAgeSeconds has `has_max_age_seconds` false.
 */
export interface CorsRule {
  readonly id?: string;
  readonly allowedOrigins: readonly string[];
  readonly allowedMethods: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds?: number;
}

export function corsRuleToWire(rule: CorsRule): CorsRuleWire {
  return {
    id: rule.id ?? '', allowedOrigins: [...rule.allowedOrigins], allowedMethods: [...rule.allowedMethods],
    allowedHeaders: [...rule.allowedHeaders], exposeHeaders: [...rule.exposeHeaders],
    maxAgeSeconds: rule.maxAgeSeconds ?? 0, hasMaxAgeSeconds: rule.maxAgeSeconds !== undefined,
  };
}

export function corsRuleFromWire(rule: CorsRuleWireOutput): CorsRule {
  return {
    ...(rule.id === '' ? {} : { id: rule.id }),
    allowedOrigins: rule.allowedOrigins, allowedMethods: rule.allowedMethods, allowedHeaders: rule.allowedHeaders, exposeHeaders: rule.exposeHeaders,
    ...(rule.hasMaxAgeSeconds ? { maxAgeSeconds: rule.maxAgeSeconds } : {}),
  };
}
