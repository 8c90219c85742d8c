/**
 * Gateway configuration from environment variables, as a pure function over an env record so
 * that only main.ts touches `process.env`. Every value is validated here, at startup, with a
 * message naming the variable; nothing is read lazily later.
 *
 * | Variable | Default | Meaning |
 * |---|---|---|
 * | TESSERA_ROOT_ACCESS_KEY | (required) | root access key id |
 * | TESSERA_ROOT_SECRET_KEY | (required) | root secret access key |
 * | TESSERA_GATEWAY_HOST | 0.0.0.0 | listen address |
 * | TESSERA_GATEWAY_PORT | 9000 | listen port (0 = any) |
 * | TESSERA_REGION | us-east-1 | signing region |
 * | TESSERA_VHOST_DOMAINS | (none) | comma-separated base domains for virtual-hosted style |
 * | TESSERA_GATEWAY_HEADER_BYTES_MAX | 16384 | largest request header section |
 * | TESSERA_GATEWAY_REQUEST_TIMEOUT_MS | 300000 | time allowed to receive a whole request |
 */
import type { Credentials } from './auth/credential-store';
import type { GatewayOptions } from './handler-context';
import { defaultGatewayLimits, validateGatewayLimits } from './limits';
import { keepAliveTimeoutMsDefault } from './server';
import type { GatewayServerOptions } from './server';

export interface GatewayConfig {
  readonly rootCredentials: Credentials;
  readonly gateway: GatewayOptions;
  readonly server: GatewayServerOptions;
}

export class GatewayConfigError extends Error {
  static readonly errorName = 'GatewayConfigError';
  constructor(message: string) {
    super(message);
    this.name = GatewayConfigError.errorName;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new GatewayConfigError(`${name} must be set`);
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw new GatewayConfigError(`${name} must be an integer, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new GatewayConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function parseGatewayConfig(env: Env): GatewayConfig {
  const accessKeyId = required(env, 'TESSERA_ROOT_ACCESS_KEY');
  const secretAccessKey = required(env, 'TESSERA_ROOT_SECRET_KEY');
  // AWS access key ids are 16-128 characters; shorter ones are typos, and a short secret is
  // brute-forceable offline from any captured signature.
  if (!/^[A-Za-z0-9]{3,128}$/.test(accessKeyId)) throw new GatewayConfigError('TESSERA_ROOT_ACCESS_KEY must be 3-128 letters and digits');
  if (secretAccessKey.length < 16) throw new GatewayConfigError('TESSERA_ROOT_SECRET_KEY must be at least 16 characters');
  const region = env['TESSERA_REGION'] ?? 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/.test(region)) throw new GatewayConfigError(`TESSERA_REGION is not a region name: "${region}"`);
  const virtualHostBaseDomains = (env['TESSERA_VHOST_DOMAINS'] ?? '')
    .split(',')
    .map((domain) => domain.trim().toLowerCase())
    .filter((domain) => domain !== '');
  const limits = defaultGatewayLimits;
  validateGatewayLimits(limits);
  return {
    rootCredentials: { accessKeyId, secretAccessKey },
    gateway: { region, virtualHostBaseDomains, owner: { id: accessKeyId, displayName: accessKeyId }, limits },
    server: {
      host: env['TESSERA_GATEWAY_HOST'] ?? '0.0.0.0',
      port: integer(env, 'TESSERA_GATEWAY_PORT', 9000, 0, 65_535),
      headerSectionBytesMax: integer(env, 'TESSERA_GATEWAY_HEADER_BYTES_MAX', 16 * 1024, 8 * 1024, 1024 * 1024),
      requestTimeoutMs: integer(env, 'TESSERA_GATEWAY_REQUEST_TIMEOUT_MS', 300_000, 1000, 24 * 3_600_000),
      keepAliveTimeoutMs: integer(env, 'TESSERA_GATEWAY_KEEP_ALIVE_TIMEOUT_MS', keepAliveTimeoutMsDefault, 1000, 3_600_000),
    },
  };
}
