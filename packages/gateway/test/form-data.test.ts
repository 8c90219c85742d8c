/**
 * Goal: the multipart/form-data reader of browser-form uploads returns exactly the fields and
 * file bytes that were sent however the body is cut into chunks (delimiters split across chunks,
 * file bytes that look like the start of a delimiter), refuses a body that is truncated or
 * malformed with MalformedPOSTRequest (never a short file), and parses Content-Disposition as
 * browsers and HTTP libraries write it. Method: bodies built byte by byte here, fed in every
 * chunk size from 1 byte up.
 */
import { FormDataReader, formDataBoundaryOf, parseContentDisposition } from '../src/form-data';
import { S3Error } from '../src/s3-errors';

const boundary = '----TesseraBoundary7MA4YWxkTrZu0gW';

function part(name: string, value: string | Buffer, extraHeaders = ''): Buffer {
  return Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"${extraHeaders}\r\n\r\n`), Buffer.from(value), Buffer.from('\r\n')]);
}

function form(parts: readonly Buffer[], epilogue = `--${boundary}--\r\n`): Buffer {
  return Buffer.concat([...parts, Buffer.from(epilogue)]);
}

async function* chunksOf(body: Buffer, chunkSizeBytes: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < body.length; offset += chunkSizeBytes) yield body.subarray(offset, offset + chunkSizeBytes);
}

interface ReadForm {
  readonly fields: Record<string, string>;
  readonly file: Buffer | undefined;
  readonly filename: string | undefined;
}

async function readForm(body: Buffer, chunkSizeBytes: number): Promise<ReadForm> {
  const reader = new FormDataReader(chunksOf(body, chunkSizeBytes), boundary, { partHeaderBytesMax: 1024 });
  const fields: Record<string, string> = {};
  let file: Buffer | undefined;
  let filename: string | undefined;
  for (let head = await reader.nextPart(); head !== undefined; head = await reader.nextPart()) {
    if (head.name === 'file') {
      const pieces: Buffer[] = [];
      for await (const piece of reader.body()) pieces.push(Buffer.from(piece));
      file = Buffer.concat(pieces);
      filename = head.filename;
    } else {
      fields[head.name] = (await reader.readValue(1024, () => new Error('too large'))).toString('utf8');
    }
  }
  return { fields, file, filename };
}

async function malformedError(body: Buffer, chunkSizeBytes: number): Promise<string> {
  try {
    await readForm(body, chunkSizeBytes);
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
  throw new Error('expected the form to be refused');
}

// File bytes that contain every prefix of the delimiter, a CRLF, and the boundary without its dashes.
const trickyFile = Buffer.concat([
  Buffer.from('start\r\n'),
  ...Array.from({ length: boundary.length + 3 }, (_, length) => Buffer.from(`\r\n--${boundary}`.slice(0, length) + 'x')),
  Buffer.from(`${boundary}\r\n-`),
  Buffer.from([0, 255, 13, 10, 13, 10]),
]);

test('fields and a file come back whole however the body is cut', async () => {
  const body = form(
    [part('key', 'uploads/${filename}'), part('x-amz-meta-note', 'héllo wörld'), part('file', trickyFile, '; filename="a b.txt"\r\nContent-Type: text/plain'), part('after', 'ignored?')],
  );
  for (let chunkSizeBytes = 1; chunkSizeBytes <= body.length; chunkSizeBytes += chunkSizeBytes < 200 ? 1 : 97) {
    const read = await readForm(body, chunkSizeBytes);
    expect({ size: chunkSizeBytes, fields: read.fields, filename: read.filename }).toEqual({
      size: chunkSizeBytes,
      fields: { key: 'uploads/${filename}', 'x-amz-meta-note': 'héllo wörld', after: 'ignored?' },
      filename: 'a b.txt',
    });
    expect(read.file?.equals(trickyFile)).toBe(true);
  }
});

test('a preamble, transport padding after delimiters, an empty file and an empty field', async () => {
  const body = Buffer.concat([
    Buffer.from('this is a preamble\r\n'),
    Buffer.from(`--${boundary}  \t\r\nContent-Disposition: form-data; name="empty"\r\n\r\n\r\n`),
    part('file', '', '; filename=""'),
    Buffer.from(`--${boundary}--`),
  ]);
  for (const chunkSizeBytes of [1, 7, 4096]) {
    expect(await readForm(body, chunkSizeBytes)).toEqual({ fields: { empty: '' }, file: Buffer.alloc(0), filename: '' });
  }
});

test('a body cut short anywhere, or malformed, is refused, never read as a shorter file', async () => {
  const body = form([part('key', 'k'), part('file', Buffer.alloc(3000, 7), '; filename="f"')]);
  // Every cut before the closing delimiter's end of the file part (after it, only `--` is missing).
  const fileEnd = body.indexOf(Buffer.from(`\r\n--${boundary}--`)) + `\r\n--${boundary}`.length + 1;
  for (let length = 0; length < fileEnd; length += length < 300 ? 1 : 37) {
    expect([length, await malformedError(body.subarray(0, length), 64)]).toEqual([length, 'MalformedPOSTRequest']);
  }
  const noDisposition = Buffer.from(`--${boundary}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${boundary}--`);
  expect(await malformedError(noDisposition, 5)).toBe('MalformedPOSTRequest');
  const textAfterDelimiter = Buffer.from(`--${boundary}junk\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--${boundary}--`);
  expect(await malformedError(textAfterDelimiter, 5)).toBe('MalformedPOSTRequest');
  const hugeHeader = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${'n'.repeat(2000)}"\r\n\r\nx\r\n--${boundary}--`);
  expect(await malformedError(hugeHeader, 100)).toBe('MalformedPOSTRequest');
  expect(await malformedError(Buffer.from('no boundary anywhere'), 3)).toBe('MalformedPOSTRequest');
});

test('the boundary of a Content-Type, and Content-Disposition parameters', () => {
  expect(formDataBoundaryOf(`multipart/form-data; boundary=${boundary}`)).toBe(boundary);
  expect(formDataBoundaryOf('Multipart/Form-Data; charset=utf-8; boundary="a b:c"')).toBe('a b:c');
  expect(formDataBoundaryOf('multipart/mixed; boundary=x')).toBeUndefined();
  expect(formDataBoundaryOf('multipart/form-data')).toBeUndefined();
  expect(formDataBoundaryOf(`multipart/form-data; boundary=${'b'.repeat(71)}`)).toBeUndefined();
  expect(formDataBoundaryOf(undefined)).toBeUndefined();

  const quoted = parseContentDisposition('form-data; name="file"; filename="say \\"hi\\"; now.txt"');
  expect([quoted.type, quoted.parameters.get('name'), quoted.parameters.get('filename')]).toEqual(['form-data', 'file', 'say "hi"; now.txt']);
  const extended = parseContentDisposition("form-data; name=file; filename=\"fallback.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt");
  expect(extended.parameters.get('filename')).toBe('€ rates.txt');
  expect(parseContentDisposition('FORM-DATA; NAME="Key"').parameters.get('name')).toBe('Key');
});
