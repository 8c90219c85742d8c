/**
 * Percent-decoding and SigV4 URI-encoding. Keys are opaque byte strings in UTF-8: decoding is
 * strict (a malformed escape or invalid UTF-8 is rejected, never replaced with U+FFFD), and
 * encoding follows the SigV4 rules: every byte except A-Z a-z 0-9 - . _ ~ becomes %XX with
 * upper-case hex.
 */
import { S3Error } from './s3-errors';

// ignoreBOM: a key may begin with U+FEFF, which a default TextDecoder would silently drop (the
// object "\uFEFFab" then landed on "ab").
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

/** Decodes %XX escapes into bytes; '+' stays a literal plus (see README "query strings"). */
export function percentDecodeToBytes(encoded: string): Buffer {
  const raw = Buffer.from(encoded, 'utf8');
  const out = Buffer.allocUnsafe(raw.length);
  let outIndex = 0;
  for (let index = 0; index < raw.length; index += 1) {
    const byte = raw[index] as number;
    if (byte !== 0x25) {
      out[outIndex++] = byte;
      continue;
    }
    const high = hexValue(raw[index + 1] ?? -1);
    const low = hexValue(raw[index + 2] ?? -1);
    if (high < 0 || low < 0) throw new S3Error('InvalidURI', { message: `Couldn't parse the specified URI: bad percent-escape.` });
    out[outIndex++] = high * 16 + low;
    index += 2;
  }
  return out.subarray(0, outIndex);
}

/** Strict decode to a string; invalid UTF-8 after decoding is InvalidURI. */
export function percentDecode(encoded: string): string {
  const bytes = percentDecodeToBytes(encoded);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new S3Error('InvalidURI', { message: "Couldn't parse the specified URI: invalid UTF-8." });
  }
}

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x7e
  );
}

/** SigV4 UriEncode over bytes; `keepSlash` is true for the path and false for query parts. */
export function uriEncodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let out = '';
  for (const byte of bytes) {
    if (isUnreserved(byte) || (keepSlash && byte === 0x2f)) out += String.fromCharCode(byte);
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function uriEncode(value: string, keepSlash: boolean): string {
  return uriEncodeBytes(Buffer.from(value, 'utf8'), keepSlash);
}

/** One query parameter exactly as sent (still encoded) and decoded. */
export interface QueryParameter {
  readonly rawName: string;
  readonly rawValue: string;
  readonly name: string;
  readonly value: string;
}

/** Splits a raw query string (without '?'); a name without '=' has the empty value. */
export function parseRawQuery(rawQuery: string): QueryParameter[] {
  if (rawQuery === '') return [];
  return rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const equalsIndex = part.indexOf('=');
      const rawName = equalsIndex < 0 ? part : part.slice(0, equalsIndex);
      const rawValue = equalsIndex < 0 ? '' : part.slice(equalsIndex + 1);
      return { rawName, rawValue, name: percentDecode(rawName), value: percentDecode(rawValue) };
    });
}
