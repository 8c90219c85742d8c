/**
 * Goal: configuration is read from an env record and validated at startup with messages that
 * name the variable. Method: table tests over env records.
 */
import { GatewayConfigError, parseGatewayConfig } from '../src/config';

const base = { TESSERA_ROOT_ACCESS_KEY: 'ROOTKEY123', TESSERA_ROOT_SECRET_KEY: 'a-long-enough-secret' };

test('defaults', () => {
  const config = parseGatewayConfig(base);
  expect(config.rootCredentials).toEqual({ accessKeyId: 'ROOTKEY123', secretAccessKey: 'a-long-enough-secret' });
  expect(config.gateway.region).toBe('us-east-1');
  expect(config.gateway.virtualHostBaseDomains).toEqual([]);
  expect(config.server).toEqual({ host: '0.0.0.0', port: 9000, headerSectionBytesMax: 16384, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 65_000 });
});

test('explicit values', () => {
  const config = parseGatewayConfig({ ...base, TESSERA_REGION: 'eu-west-3', TESSERA_VHOST_DOMAINS: 'S3.Example.com, localhost', TESSERA_GATEWAY_PORT: '0' });
  expect(config.gateway.region).toBe('eu-west-3');
  expect(config.gateway.virtualHostBaseDomains).toEqual(['s3.example.com', 'localhost']);
  expect(config.server.port).toBe(0);
});

test.each([
  [{ TESSERA_ROOT_SECRET_KEY: 'a-long-enough-secret' }, 'TESSERA_ROOT_ACCESS_KEY must be set'],
  [{ TESSERA_ROOT_ACCESS_KEY: 'ROOTKEY123' }, 'TESSERA_ROOT_SECRET_KEY must be set'],
  [{ ...base, TESSERA_ROOT_SECRET_KEY: 'short' }, 'at least 16'],
  [{ ...base, TESSERA_ROOT_ACCESS_KEY: 'bad key!' }, 'letters and digits'],
  [{ ...base, TESSERA_GATEWAY_PORT: '70000' }, 'TESSERA_GATEWAY_PORT must be between'],
  [{ ...base, TESSERA_GATEWAY_PORT: 'http' }, 'TESSERA_GATEWAY_PORT must be an integer'],
  [{ ...base, TESSERA_REGION: 'Not A Region' }, 'TESSERA_REGION'],
])('%j is refused', (env, message) => {
  expect(() => parseGatewayConfig(env)).toThrow(GatewayConfigError);
  expect(() => parseGatewayConfig(env)).toThrow(message);
});
