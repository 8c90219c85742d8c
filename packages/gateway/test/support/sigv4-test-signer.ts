/**
 * An independent SigV4 signer for raw-HTTP tests, written from the AWS specification (S3 API
 * reference, "Signature Calculations for the Authorization Header" and "Transferring Payload in
 * Multiple Chunks"). It deliberately shares no code with src/auth, so a shared misreading of the
 * spec cannot make both sides agree. Test code only.
 */
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';

export interface SignerCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

const hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

function encode(value: string, keepSlash: boolean): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) => {
      const ch = String.fromCharCode(byte);
      if (/[A-Za-z0-9\-._~]/.test(ch) || (keepSlash && ch === '/')) return ch;
      return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

export function amzDateOf(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function signingKeyOf(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

export interface RawRequest {
  readonly method: string;
  /** Decoded path, e.g. "/bucket/my key"; encoded here per segment. */
  readonly path: string;
  readonly query?: readonly [string, string][];
  readonly headers: Record<string, string>;
  readonly payloadHash: string;
  readonly date: Date;
}

export interface SignedRequest {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly signature: string;
  readonly signingKey: Buffer;
  readonly scope: string;
  readonly amzDate: string;
}

export function signRequest(creds: SignerCredentials, raw: RawRequest): SignedRequest {
  const amzDate = amzDateOf(raw.date);
  const date = amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...raw.headers, 'x-amz-date': amzDate, 'x-amz-content-sha256': raw.payloadHash };
  const names = Object.keys(headers).map((n) => n.toLowerCase()).sort();
  const lookup = new Map(Object.entries(headers).map(([n, v]) => [n.toLowerCase(), v]));
  const encodedPath = encode(raw.path, true);
  const query = [...(raw.query ?? [])].map(([n, v]) => [encode(n, false), encode(v, false)] as const).sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  const canonical = [
    raw.method,
    encodedPath,
    query.map(([n, v]) => `${n}=${v}`).join('&'),
    names.map((n) => `${n}:${(lookup.get(n) ?? '').trim().replace(/ +/g, ' ')}\n`).join(''),
    names.join(';'),
    raw.payloadHash,
  ].join('\n');
  const scope = `${date}/${creds.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonical)].join('\n');
  const signingKey = signingKeyOf(creds.secretAccessKey, date, creds.region);
  const signature = hmac(signingKey, toSign).toString('hex');
  headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  const search = query.map(([n, v]) => `${n}=${v}`).join('&');
  return { path: search === '' ? encodedPath : `${encodedPath}?${search}`, headers, signature, signingKey, scope, amzDate };
}

export interface ChunkedBodyOptions {
  readonly chunkSizeBytes: number;
  /** Trailer lines (name -> value) sent after the final chunk, signed when `signed`. */
  readonly trailers?: Record<string, string>;
  readonly signed: boolean;
  /** Test hooks to corrupt the encoding. */
  readonly corruptChunkSignatureIndex?: number;
  readonly corruptTrailerSignature?: boolean;
}

const emptyHash = hex('');

/** Builds an aws-chunked body, chaining chunk signatures from the request's seed signature. */
export function awsChunkedBody(payload: Buffer, signed: SignedRequest | undefined, options: ChunkedBodyOptions): Buffer {
  const out: Buffer[] = [];
  let previous = signed?.signature ?? '';
  const sign = (data: Buffer): string => {
    if (signed === undefined) return '';
    const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', signed.amzDate, signed.scope, previous, emptyHash, hex(data)].join('\n');
    previous = hmac(signed.signingKey, toSign).toString('hex');
    return previous;
  };
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < payload.length; offset += options.chunkSizeBytes) chunks.push(payload.subarray(offset, offset + options.chunkSizeBytes));
  chunks.push(Buffer.alloc(0));
  chunks.forEach((chunk, index) => {
    let signature = options.signed ? sign(chunk) : '';
    if (options.corruptChunkSignatureIndex === index) signature = signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const extension = options.signed ? `;chunk-signature=${signature}` : '';
    out.push(Buffer.from(`${chunk.length.toString(16)}${extension}\r\n`));
    if (chunk.length > 0) out.push(chunk, Buffer.from('\r\n'));
  });
  if (options.trailers === undefined) {
    out.push(Buffer.from('\r\n'));
    return Buffer.concat(out);
  }
  const lines = Object.entries(options.trailers).map(([n, v]) => `${n}:${v}`);
  for (const line of lines) out.push(Buffer.from(`${line}\r\n`));
  if (options.signed && signed !== undefined) {
    const canonical = lines.map((line) => `${line}\n`).join('');
    const toSign = ['AWS4-HMAC-SHA256-TRAILER', signed.amzDate, signed.scope, previous, hex(canonical)].join('\n');
    let signature = hmac(signed.signingKey, toSign).toString('hex');
    if (options.corruptTrailerSignature === true) signature = signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    out.push(Buffer.from(`x-amz-trailer-signature:${signature}\r\n`));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** Sends a raw HTTP request to 127.0.0.1:port with exactly these headers and body. */
export function sendRaw(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
