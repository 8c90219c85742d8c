// The slice of the WebAssembly JS API this package uses. TypeScript ships these types only in the
// DOM lib, which would also pull browser globals into a Node package; @types/node 20 has none.
// Only internal modules use these names, so no emitted declaration depends on this file.
declare namespace WebAssembly {
  type ExportValue = Function | Memory;
  type Exports = Record<string, ExportValue>;
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, importObject?: Record<string, never>);
    readonly exports: Exports;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(deltaPages: number): number;
  }
  function validate(bytes: Uint8Array): boolean;
}
