// Goal: the text scanner behind tidy.test.ts sees exactly the code: a banned call or import is
// found, and the same words inside comments, strings and templates are not (otherwise the
// rules would either miss violations or fire on every doc comment). Method: small sources with
// the awkward cases, checked against the expected findings.
import { codeOnly, defaultExports, findInCode, importedModules, packageOf } from './source-scan';

describe('codeOnly', () => {
  it('blanks comments and string contents but keeps line numbers', () => {
    const source = "const a = 'Date.now()'; // Date.now\n/* setTimeout\n */ const b = Date.now();";
    const code = codeOnly(source);
    expect(code.split('\n')).toHaveLength(3);
    expect(code).not.toMatch(/setTimeout/);
    expect(code.match(/Date\.now/g)).toHaveLength(1);
    expect(code.split('\n')[2]).toContain('Date.now()');
  });

  it('handles escaped quotes and URLs inside strings', () => {
    const code = codeOnly("const u = 'http://x/\\'Math.random'; Math.random();");
    expect(code.match(/Math\.random/g)).toHaveLength(1);
  });

  it('reads code inside template substitutions, not the template text', () => {
    const code = codeOnly('const t = `setInterval ${setInterval(f, 1)} and ${`nested ${Date.now()}`}`;');
    expect(code.match(/setInterval/g)).toHaveLength(1);
    expect(code.match(/Date\.now/g)).toHaveLength(1);
  });

  it('resumes after a template that contains braces in its substitutions', () => {
    const code = codeOnly('const t = `${ {a: 1}.a }`; const x = { y: `z` }; setImmediate(f);');
    expect(code).toContain('setImmediate(f)');
  });
});

describe('importedModules', () => {
  it('finds every import form, and not commented-out ones', () => {
    const source = [
      "import { a } from '@tessera/common';",
      "import type { B } from '@tessera/proto/generated/storage_node';",
      "import * as fs from 'node:fs';",
      "import 'side-effect';",
      "export { c } from './local';",
      "const lazy = await import('level');",
      "const old = require(\"@grpc/grpc-js\");",
      "// import { gone } from 'prom-client';",
      "const text = \"import { fake } from 'nope'\";",
    ].join('\n');
    expect(importedModules(source)).toEqual(['@tessera/common', '@tessera/proto/generated/storage_node', 'node:fs', 'side-effect', './local', 'level', '@grpc/grpc-js']);
  });

  it('reads multi-line import lists', () => {
    expect(importedModules("import {\n  a,\n  b,\n} from '@tessera/rpc';")).toEqual(['@tessera/rpc']);
  });
});

describe('rules', () => {
  it('finds default exports in both forms', () => {
    expect(defaultExports('export default class A {}\nconst b = 1;\nexport { b as default };').map((f) => f.line)).toEqual([1, 3]);
    expect(defaultExports("// export default nothing\nconst s = 'export default';")).toEqual([]);
  });

  it('reports the line of a banned call', () => {
    expect(findInCode('const a = 1;\nconst b = Math.random();\n', /Math\.random/)).toEqual([{ line: 2, text: 'const b = Math.random();' }]);
  });

  it('names the package of a module specifier', () => {
    expect(packageOf('@tessera/rpc/storage-node-client')).toBe('@tessera/rpc');
    expect(packageOf('node:fs')).toBe('node:fs');
    expect(packageOf('level')).toBe('level');
    expect(packageOf('./local')).toBeUndefined();
  });
});
