/**
 * A minimal XML writer for S3 responses. Responses are small and their shape is fixed, so
 * elements are composed as strings; every text value goes through `escapeXmlText`, which is the
 * one place that decides how keys with markup or control characters appear on the wire.
 */
export const s3XmlNamespace = 'http://s3.amazonaws.com/doc/2006-03-01/';

const xmlDeclaration = '<?xml version="1.0" encoding="UTF-8"?>\n';

/**
 * Escapes markup characters, and writes C0 control characters (and CR, which XML parsers would
 * otherwise normalise away) as numeric references, as S3 does for keys such as "a\u0001b".
 */
export function escapeXmlText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[&<>"'\u0000-\u001f\u007f]/g, (ch) => {
    switch (ch) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${ch.charCodeAt(0).toString(16).toUpperCase()};`;
    }
  });
}

/** One child element, or nothing when the value is undefined (optional S3 elements are omitted). */
export function xmlText(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  return `<${name}>${escapeXmlText(String(value))}</${name}>`;
}

/** An element whose children are already rendered XML. */
export function xmlElement(name: string, ...children: readonly string[]): string {
  return `<${name}>${children.join('')}</${name}>`;
}

/** A complete document: declaration plus the root element in the S3 namespace. */
export function xmlDocument(rootName: string, ...children: readonly string[]): string {
  return `${xmlDeclaration}<${rootName} xmlns="${s3XmlNamespace}">${children.join('')}</${rootName}>`;
}

/** A complete document whose root carries no namespace (S3's Error body has none). */
export function xmlDocumentWithoutNamespace(rootName: string, ...children: readonly string[]): string {
  return `${xmlDeclaration}<${rootName}>${children.join('')}</${rootName}>`;
}
