// Goal: the project's style rules (STYLE.md habit 19: style enforced by tests, not review) hold
// for every file in the workspace, so a change that breaks the layering, reaches for a clock
// or a socket inside pure code, adds a default export or a metric outside metrics.ts fails CI
// with the file and line. Method: read the real manifests and sources from disk and apply the
// rules in layering.ts with the scanner from source-scan.ts (whose own tests are in
// source-scan.test.ts). Each test collects every violation, so one run lists them all.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { allowedDependencies, environmentReaders, purePackages } from './layering';
import { defaultExports, findInCode, importedModules, packageOf } from './source-scan';
import { readSource, repoRoot, typescriptFiles, workspacePackages } from './workspace';

const packages = workspacePackages();
const tessera = (names: Iterable<string>): string[] => [...names].filter((name) => name.startsWith('@tessera/'));

describe('workspace layering', () => {
  it('every workspace package is in the layering table', () => {
    expect(packages.map((p) => p.name).filter((name) => allowedDependencies[name] === undefined)).toEqual([]);
  });

  it('package.json dependencies only point down the layers', () => {
    const violations = packages.flatMap((p) =>
      tessera(Object.keys(p.dependencies))
        .filter((dependency) => !(allowedDependencies[p.name] ?? []).includes(dependency))
        .map((dependency) => `${p.name} depends on ${dependency}`),
    );
    expect(violations).toEqual([]);
  });

  it('no package depends on itself, even for tests', () => {
    expect(packages.filter((p) => p.name in p.dependencies || p.name in p.devDependencies).map((p) => p.name)).toEqual([]);
  });

  it('src imports only declared dependencies; tests also their devDependencies', () => {
    const violations: string[] = [];
    for (const p of packages) {
      const declared = new Set(tessera(Object.keys(p.dependencies)));
      const declaredForTests = new Set([...declared, ...tessera(Object.keys(p.devDependencies)), p.name]);
      for (const [folder, allowed] of [['src', declared], ['test', declaredForTests]] as const) {
        for (const file of typescriptFiles(`${p.dir}/${folder}`)) {
          const isFixture = file.startsWith(`${p.dir}/src/testing/`);
          for (const specifier of importedModules(readSource(file))) {
            const imported = packageOf(specifier);
            if (imported === undefined || !imported.startsWith('@tessera/') || imported === p.name) continue;
            if (!allowed.has(imported) && !(isFixture && declaredForTests.has(imported))) violations.push(`${file} imports ${specifier}, not in ${folder === 'src' ? 'dependencies' : 'dependencies or devDependencies'} of ${p.name}`);
          }
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it("tsconfig references cover every @tessera dependency, so tsc -b builds them first", () => {
    const violations: string[] = [];
    for (const p of packages) {
      if (p.tsconfigReferences === undefined) continue;
      for (const dependency of tessera(Object.keys(p.dependencies))) {
        const dependencyDir = packages.find((other) => other.name === dependency)?.dir;
        if (dependencyDir !== undefined && !p.tsconfigReferences.includes(dependencyDir)) violations.push(`${p.dir}/tsconfig.json lacks a reference to ${dependencyDir}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the root tsconfig builds every package that has sources', () => {
    const root = JSON.parse(readSource('tsconfig.json')) as { references: Array<{ path: string }> };
    const built = new Set(root.references.map((reference) => reference.path));
    expect(packages.filter((p) => existsSync(join(repoRoot, p.dir, 'src')) && !built.has(p.dir)).map((p) => p.dir)).toEqual([]);
  });
});

describe('pure packages stay free of I/O, clocks and randomness', () => {
  const bannedCalls = /\b(Date\.now|Math\.random|setTimeout|setInterval|setImmediate|performance\.now)\b|\bprocess\./;
  const bannedModule = (name: string): boolean => name.startsWith('node:') || ['fs', 'net', 'http', 'http2', 'level', 'prom-client'].includes(name) || name.startsWith('@grpc/');

  it.each(purePackages.map((p) => [p.dir, p.exempt] as const))('%s', (dir, exempt) => {
    const violations: string[] = [];
    for (const file of typescriptFiles(`${dir}/src`)) {
      const relativeToPackage = file.slice(dir.length + 1);
      // Benchmarks time things and print: they are programs, not part of the library.
      if (relativeToPackage.startsWith('src/bench/') || exempt.some((prefix) => relativeToPackage.startsWith(prefix))) continue;
      const source = readSource(file);
      for (const specifier of importedModules(source)) if (bannedModule(specifier)) violations.push(`${file} imports ${specifier}`);
      for (const finding of findInCode(source, bannedCalls)) violations.push(`${file}:${finding.line} ${finding.text}`);
    }
    expect(violations).toEqual([]);
  });

  it('common imports no file system, network, storage or metrics module', () => {
    const violations = typescriptFiles('packages/common/src').flatMap((file) =>
      importedModules(readSource(file))
        .filter((specifier) => /^(node:)?(fs|net|http|http2|child_process)(\/|$)/.test(specifier) || specifier === 'level' || specifier.startsWith('@grpc/') || specifier === 'prom-client')
        .map((specifier) => `${file} imports ${specifier}`),
    );
    expect(violations).toEqual([]);
  });
});

describe('habits', () => {
  const allSources = packages.flatMap((p) => [...typescriptFiles(`${p.dir}/src`), ...typescriptFiles(`${p.dir}/test`)]);

  it('finds the sources it checks', () => {
    expect(allSources.length).toBeGreaterThan(200);
  });

  it('no default exports', () => {
    expect(allSources.flatMap((file) => defaultExports(readSource(file)).map((f) => `${file}:${f.line} ${f.text}`))).toEqual([]);
  });

  it('no leftover FIXME', () => {
    // Matched on the raw text: a FIXME in a comment is exactly what this looks for.
    expect(allSources.filter((file) => /\bFIXME\b/.test(readSource(file)) && !file.startsWith('packages/tidy/'))).toEqual([]);
  });

  it('process.env is read only by composition roots (main.ts), benchmarks and the listed exceptions', () => {
    const violations = packages
      .flatMap((p) => typescriptFiles(`${p.dir}/src`))
      .filter((file) => !file.endsWith('/src/main.ts') && !file.includes('/src/bench/'))
      .filter((file) => !environmentReaders.some((allowed) => (allowed.endsWith('/') ? file.startsWith(allowed) : file === allowed)))
      .flatMap((file) => findInCode(readSource(file), /\bprocess\.env\b/).map((f) => `${file}:${f.line} ${f.text}`));
    expect(violations).toEqual([]);
  });

  it('metrics are defined only in a metrics.ts factory', () => {
    const violations = packages
      .flatMap((p) => typescriptFiles(`${p.dir}/src`))
      .filter((file) => !file.endsWith('/metrics.ts') && !file.includes('/src/bench/'))
      .flatMap((file) => findInCode(readSource(file), /\bnew\s+(Counter|Gauge|Histogram|Summary)\s*[(<]/).map((f) => `${file}:${f.line} ${f.text}`));
    expect(violations).toEqual([]);
  });

  it('every library package documents itself: src/index.ts opens with @packageDocumentation, and a README', () => {
    const problems: string[] = [];
    for (const p of packages) {
      const index = `${p.dir}/src/index.ts`;
      if (!existsSync(join(repoRoot, index))) continue;
      if (!readSource(index).slice(0, 400).includes('@packageDocumentation')) problems.push(`${index} does not open with @packageDocumentation`);
      if (!existsSync(join(repoRoot, p.dir, 'README.md'))) problems.push(`${p.dir}/README.md is missing`);
    }
    expect(problems).toEqual([]);
  });
});
