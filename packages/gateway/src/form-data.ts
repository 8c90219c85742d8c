/**
 * A streaming reader of `multipart/form-data` bodies (RFC 7578), for browser-form uploads
 * (POST Object). The fields before the file are small and read whole; the file part is streamed
 * as it arrives, never held whole, and ends only at its closing delimiter, so a truncated body
 * is an error, never a short object. Pure: it consumes an async iterable of bytes and does no
 * I/O of its own.
 */
import { S3Error } from './s3-errors';

/** The headers of one part: its form field name and, for file inputs, the file name. */
export interface FormPartHead {
  readonly name: string;
  readonly filename: string | undefined;
  readonly contentType: string | undefined;
}

export interface FormDataLimits {
  /** Bytes of one part's header block (Content-Disposition, Content-Type). */
  readonly partHeaderBytesMax: number;
}

const crlf = Buffer.from('\r\n');
const headerEnd = Buffer.from('\r\n\r\n');

function malformed(detail: string): S3Error {
  return new S3Error('MalformedPOSTRequest', { message: `The body of your POST request is not well-formed multipart/form-data: ${detail}.` });
}

/** The boundary of a `multipart/form-data` Content-Type, or undefined when it is not one. */
export function formDataBoundaryOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const [mediaType = '', ...parameters] = contentType.split(';');
  if (mediaType.trim().toLowerCase() !== 'multipart/form-data') return undefined;
  for (const parameter of parameters) {
    const equals = parameter.indexOf('=');
    if (equals < 0 || parameter.slice(0, equals).trim().toLowerCase() !== 'boundary') continue;
    let value = parameter.slice(equals + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    // RFC 2046: 1 to 70 characters.
    return value.length >= 1 && value.length <= 70 ? value : undefined;
  }
  return undefined;
}

/** Parameters of a Content-Disposition value: `form-data; name="key"; filename="a.txt"`. */
export function parseContentDisposition(value: string): { readonly type: string; readonly parameters: ReadonlyMap<string, string> } {
  const parameters = new Map<string, string>();
  let index = value.indexOf(';');
  const type = (index < 0 ? value : value.slice(0, index)).trim().toLowerCase();
  while (index >= 0 && index < value.length) {
    index += 1;
    while (value[index] === ' ' || value[index] === '\t') index += 1;
    const equals = value.indexOf('=', index);
    if (equals < 0) break;
    const name = value.slice(index, equals).trim().toLowerCase();
    index = equals + 1;
    let parameterValue = '';
    if (value[index] === '"') {
      index += 1;
      while (index < value.length && value[index] !== '"') {
        // A backslash quotes the next character (RFC 7230 quoted-pair).
        if (value[index] === '\\' && index + 1 < value.length) index += 1;
        parameterValue += value[index];
        index += 1;
      }
      index = value.indexOf(';', index);
    } else {
      const end = value.indexOf(';', index);
      parameterValue = (end < 0 ? value.slice(index) : value.slice(index, end)).trim();
      index = end;
    }
    if (!parameters.has(name)) parameters.set(name, parameterValue);
  }
  // RFC 5987 `filename*=UTF-8''percent-encoded` wins over the plain form when it decodes.
  const extended = parameters.get('filename*');
  const match = extended === undefined ? null : /^utf-8''(.*)$/i.exec(extended);
  if (match !== null) {
    try {
      parameters.set('filename', decodeURIComponent(match[1] ?? ''));
    } catch {
      // Not valid percent-encoded UTF-8: keep the plain filename.
    }
  }
  return { type, parameters };
}

/**
 * Reads a form part by part: `nextPart()` gives each part's head; then either `readValue()` (a
 * field, bounded) or `body()` (the file, streamed) must consume its content before the next
 * `nextPart()`. Every delimiter is `CRLF--boundary`; the body is read as if it began with a CRLF,
 * so the first delimiter needs no special case.
 */
export class FormDataReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private readonly delimiter: Buffer;
  private buffer: Buffer = Buffer.from(crlf);
  private sourceDone = false;
  private state: 'preamble' | 'head' | 'content' | 'end' = 'preamble';
  /** Bytes taken from the source so far. */
  private sourceBytes = 0;

  constructor(
    source: AsyncIterable<Uint8Array>,
    boundary: string,
    private readonly limits: FormDataLimits,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /** Reads one more chunk from the source into the buffer; false at the end of the source. */
  private async fill(): Promise<boolean> {
    if (this.sourceDone) return false;
    const next = await this.iterator.next();
    if (next.done === true) {
      this.sourceDone = true;
      return false;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.sourceBytes += chunk.length;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    return true;
  }

  /** Bytes of the body parsed so far (read from the source and no longer buffered). */
  get parsedBytes(): number {
    // The buffer began with a CRLF the source never sent.
    return this.sourceBytes + crlf.length - this.buffer.length;
  }

  /** The next part's head, or undefined after the closing delimiter. */
  async nextPart(): Promise<FormPartHead | undefined> {
    if (this.state === 'end') return undefined;
    if (this.state === 'content') throw new Error('the previous part was not consumed');
    if (this.state === 'preamble') {
      // Skip the preamble up to the first delimiter.
      for (;;) {
        const index = this.buffer.indexOf(this.delimiter);
        if (index >= 0) {
          this.buffer = this.buffer.subarray(index);
          break;
        }
        // Keep what could be the start of a delimiter split across chunks.
        this.buffer = this.buffer.subarray(Math.max(0, this.buffer.length - this.delimiter.length + 1));
        if (!(await this.fill())) throw malformed('no boundary found');
      }
    }
    // The buffer starts with a delimiter; then `--` (the end) or a line break (another part).
    while (this.buffer.length < this.delimiter.length + 2) if (!(await this.fill())) throw malformed('the body ends inside a delimiter');
    const after = this.buffer.subarray(this.delimiter.length, this.delimiter.length + 2).toString('latin1');
    if (after === '--') {
      this.state = 'end';
      return undefined;
    }
    let lineEnd: number;
    while ((lineEnd = this.buffer.indexOf(crlf, this.delimiter.length)) < 0) {
      if (this.buffer.length > this.delimiter.length + 1024) throw malformed('a delimiter line is too long');
      if (!(await this.fill())) throw malformed('the body ends inside a delimiter line');
    }
    // Transport padding (spaces, tabs) may follow a delimiter; nothing else may.
    if (!/^[ \t]*$/.test(this.buffer.subarray(this.delimiter.length, lineEnd).toString('latin1'))) throw malformed('text after a delimiter');
    // The head: header lines up to an empty line. A part without headers has its empty line at once.
    const headStart = lineEnd;
    let headEnd: number;
    while ((headEnd = this.buffer.indexOf(headerEnd, headStart)) < 0) {
      if (this.buffer.length - headStart > this.limits.partHeaderBytesMax) throw malformed('a part header is too long');
      if (!(await this.fill())) throw malformed('the body ends inside a part header');
    }
    const headerText = this.buffer.subarray(headStart + 2, headEnd).toString('utf8');
    // The content starts after the empty line; keep a CRLF before it so its end is `CRLF--boundary`.
    this.buffer = this.buffer.subarray(headEnd + 2);
    this.state = 'content';
    return this.parseHead(headerText);
  }

  private parseHead(headerText: string): FormPartHead {
    let disposition: string | undefined;
    let contentType: string | undefined;
    for (const line of headerText.split('\r\n')) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon < 0) throw malformed('a part header line without a colon');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-disposition') disposition = value;
      else if (name === 'content-type') contentType = value;
    }
    if (disposition === undefined) throw malformed('a part without Content-Disposition');
    const parsed = parseContentDisposition(disposition);
    const name = parsed.parameters.get('name');
    if (parsed.type !== 'form-data' || name === undefined) throw malformed('a part that is not a named form-data field');
    return { name, filename: parsed.parameters.get('filename'), contentType };
  }

  /**
   * Streams the current part's content, ending at its closing delimiter. The buffer starts
   * with the CRLF before the content, so the first yielded byte is past it.
   */
  async *body(): AsyncGenerator<Buffer> {
    if (this.state !== 'content') throw new Error('body() is called right after nextPart()');
    let skip = crlf.length;
    for (;;) {
      const index = this.buffer.indexOf(this.delimiter);
      if (index >= 0) {
        const content = this.buffer.subarray(skip, index);
        this.buffer = this.buffer.subarray(index);
        this.state = 'head';
        if (content.length > 0) yield content;
        return;
      }
      // Everything but a tail that could begin a delimiter is content.
      const safeEnd = this.buffer.length - this.delimiter.length + 1;
      if (safeEnd > skip) {
        const content = this.buffer.subarray(skip, safeEnd);
        this.buffer = this.buffer.subarray(safeEnd);
        skip = 0;
        yield content;
      }
      if (!(await this.fill())) throw malformed('the body ends before the closing boundary');
    }
  }

  /** The current part's content whole; more than `bytesMax` bytes is `tooLarge()`. */
  async readValue(bytesMax: number, tooLarge: () => Error): Promise<Buffer> {
    const pieces: Buffer[] = [];
    let sizeBytes = 0;
    for await (const piece of this.body()) {
      sizeBytes += piece.length;
      if (sizeBytes > bytesMax) throw tooLarge();
      pieces.push(piece);
    }
    return Buffer.concat(pieces);
  }

  /** Reads and discards the rest of the source (parts after the file are ignored, as S3 does). */
  async drain(): Promise<void> {
    this.buffer = Buffer.alloc(0);
    while (await this.fill()) this.buffer = Buffer.alloc(0);
    this.state = 'end';
  }
}
