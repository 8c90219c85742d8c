/** Reads the workspace from disk: its packages, their manifests and their TypeScript files. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const repoRoot = join(__dirname, '..', '..', '..');

export interface WorkspacePackage {
  readonly name: string;
  /** Relative to the repository root, e.g. `packages/rpc`. */
  readonly dir: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
  /** `references[].path` of its tsconfig.json, resolved to directories relative to the root. */
  readonly tsconfigReferences: readonly string[] | undefined;
}

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export function workspacePackages(): WorkspacePackage[] {
  const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] };
  const dirs: string[] = [];
  for (const pattern of rootManifest.workspaces) {
    if (pattern.endsWith('/*')) {
      const parent = pattern.slice(0, -2);
      for (const entry of readdirSync(join(repoRoot, parent)).sort()) {
        if (existsSync(join(repoRoot, parent, entry, 'package.json'))) dirs.push(`${parent}/${entry}`);
      }
    } else {
      dirs.push(pattern);
    }
  }
  return dirs.map((dir) => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as Manifest;
    const tsconfigPath = join(repoRoot, dir, 'tsconfig.json');
    let tsconfigReferences: string[] | undefined;
    if (existsSync(tsconfigPath)) {
      const tsconfig = JSON.parse(readFileSync(tsconfigPath, 'utf8')) as { references?: Array<{ path: string }> };
      tsconfigReferences = (tsconfig.references ?? []).map((reference) => relative(repoRoot, join(repoRoot, dir, reference.path)));
    }
    return { name: manifest.name, dir, dependencies: manifest.dependencies ?? {}, devDependencies: manifest.devDependencies ?? {}, tsconfigReferences };
  });
}

/** Every .ts file under `dir` (relative to the root), skipping generated code and build output. */
export function typescriptFiles(dir: string): string[] {
  const absolute = join(repoRoot, dir);
  if (!existsSync(absolute)) return [];
  const files: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current).sort()) {
      if (entry === 'node_modules' || entry === 'dist' || entry === 'generated') continue;
      const path = join(current, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.ts')) files.push(relative(repoRoot, path));
    }
  };
  walk(absolute);
  return files;
}

export function readSource(file: string): string {
  return readFileSync(join(repoRoot, file), 'utf8');
}
