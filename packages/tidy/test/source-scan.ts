/**
 * Pure helpers that read TypeScript source as text: blank out comments and string contents
 * (so a rule never fires on a word inside a comment or a message), list the modules a file
 * imports, and find banned identifiers. A full parser would be exact; this is exact enough for
 * our own code, and the unit tests in source-scan.test.ts pin down the cases it must get right.
 */

/**
 * The source with every comment and the contents of every string/template literal replaced by
 * spaces (newlines kept, so line numbers still match). Quotes stay, so `import 'x'` keeps its
 * shape; `codeOnly` is for rules about code, `importedModules` reads the original text.
 */
export function codeOnly(source: string): string {
  const out: string[] = [];
  // Template literals nest through `${ ... }`: a stack of brace depths, one per open template.
  const templateBraceDepths: number[] = [];
  let braceDepth = 0;
  let i = 0;
  const blank = (ch: string): string => (ch === '\n' ? '\n' : ' ');
  while (i < source.length) {
    const ch = source[i] ?? '';
    const next = source[i + 1] ?? '';
    if (ch === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') {
        out.push(' ');
        i++;
      }
    } else if (ch === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      for (; i < stop; i++) out.push(blank(source[i] ?? ''));
    } else if (ch === "'" || ch === '"') {
      out.push(ch);
      i++;
      while (i < source.length && source[i] !== ch && source[i] !== '\n') {
        if (source[i] === '\\') {
          out.push(' ');
          i++;
        }
        out.push(blank(source[i] ?? ''));
        i++;
      }
      if (i < source.length) out.push(source[i++] ?? '');
    } else if (ch === '`' || (ch === '}' && templateBraceDepths.length > 0 && templateBraceDepths[templateBraceDepths.length - 1] === braceDepth)) {
      // Start of a template, or the `}` closing a `${` inside one: read literal text up to the
      // closing backtick or the next `${`.
      if (ch === '}') templateBraceDepths.pop();
      out.push(ch);
      i++;
      for (;;) {
        if (i >= source.length) break;
        const c = source[i] ?? '';
        if (c === '\\') {
          out.push(' ', blank(source[i + 1] ?? ''));
          i += 2;
        } else if (c === '`') {
          out.push('`');
          i++;
          break;
        } else if (c === '$' && source[i + 1] === '{') {
          out.push('${');
          i += 2;
          templateBraceDepths.push(braceDepth);
          break;
        } else {
          out.push(blank(c));
          i++;
        }
      }
    } else {
      if (ch === '{') braceDepth++;
      if (ch === '}') braceDepth--;
      out.push(ch);
      i++;
    }
  }
  return out.join('');
}

/** Module specifiers of static imports, re-exports, `import()` and `require()`, in order. */
export function importedModules(source: string): string[] {
  const code = codeOnly(source);
  const modules: string[] = [];
  // Match on the blanked code (so commented-out imports do not count), read the specifier
  // from the same offsets of the original text.
  const pattern = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?(['"])|\b(?:import|require)\s*\(\s*(['"])/g;
  for (let match = pattern.exec(code); match !== null; match = pattern.exec(code)) {
    const quoteIndex = match.index + match[0].length - 1;
    const quote = source[quoteIndex] ?? '';
    const end = source.indexOf(quote, quoteIndex + 1);
    if (end > quoteIndex) modules.push(source.slice(quoteIndex + 1, end));
  }
  return modules;
}

export interface Finding {
  /** 1-based. */
  readonly line: number;
  readonly text: string;
}

/** Lines of code (comments and strings excluded) that match `pattern`. */
export function findInCode(source: string, pattern: RegExp): Finding[] {
  const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
  const global = new RegExp(pattern.source, flags);
  const code = codeOnly(source);
  const sourceLines = source.split('\n');
  const findings: Finding[] = [];
  code.split('\n').forEach((line, index) => {
    global.lastIndex = 0;
    if (global.test(line)) findings.push({ line: index + 1, text: (sourceLines[index] ?? '').trim() });
  });
  return findings;
}

/** `export default ...` and `export { x as default }`. */
export function defaultExports(source: string): Finding[] {
  return findInCode(source, /\bexport\s+default\b|\bas\s+default\b/);
}

/** The package a module specifier names (`@tessera/rpc/x` → `@tessera/rpc`, `node:fs` → `node:fs`). */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}
