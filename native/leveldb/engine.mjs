#!/usr/bin/env node
// Puts Tessera's patched LevelDB engine in place of classic-level's stock prebuilt binary.
//
// classic-level (the LevelDB binding under `level`) bundles LevelDB 1.20, whose compactions can
// move the newest versions of a key one level down while older versions of the same key stay
// above them; point reads then return the older value (see README.md here). The patch in this
// directory fixes the compaction picker. node-gyp-build, which classic-level uses to load its
// addon, prefers `build/Release/classic_level.node` over the stock prebuilds, so this script
// writes the patched binary there:
//   1. nothing to do when the binary in place already reports the fix;
//   2. else the prebuilt binary of this directory for this platform, when it loads here;
//   3. else a build from source (classic-level's sources + the patch, compiled with node-gyp),
//      when a C++ toolchain is available;
//   4. else a warning: metadata nodes then run on the stock engine and say so in their log.
//
// Usage:
//   node native/leveldb/engine.mjs [install]     steps 1-4 (run by `npm run build`)
//   node native/leveldb/engine.mjs status        which engine loads; exit 1 without the fix
//   node native/leveldb/engine.mjs build [--out FILE]
//                                                compile from source (maintainers regenerate
//                                                the prebuilt binary with --out)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(here, 'manifest.json'), 'utf8'));
const log = (message) => process.stdout.write(`leveldb engine: ${message}\n`);
const warn = (message) => process.stderr.write(`leveldb engine: WARNING: ${message}\n`);

/** classic-level's directory, as the metadata package resolves it (through `level`). */
function classicLevelDir() {
  const requireFromMetadata = createRequire(path.join(repoRoot, 'packages', 'metadata', 'package.json'));
  const levelEntry = requireFromMetadata.resolve('level');
  const packageJson = createRequire(levelEntry).resolve('classic-level/package.json');
  return path.dirname(packageJson);
}

function sha256Of(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Loads an addon in a child process (a binary that cannot load must not crash this one). */
function probe(binaryPath) {
  const code = 'const m = { exports: {} }; process.dlopen(m, process.argv[1]);'
    + 'process.stdout.write(JSON.stringify(typeof m.exports.engine_fixes === "function" ? m.exports.engine_fixes().split(",") : []));';
  const child = spawnSync(process.execPath, ['-e', code, binaryPath], { encoding: 'utf8', timeout: 30_000 });
  if (child.status !== 0) return { loads: false, fixes: [], error: (child.stderr || child.error?.message || '').trim().split('\n')[0] };
  return { loads: true, fixes: JSON.parse(child.stdout) };
}

function hasFix(result) {
  return result.loads && result.fixes.includes(manifest.fix);
}

function platformKey() {
  const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
  const libc = process.platform === 'linux' ? (glibc ? 'glibc' : 'musl') : undefined;
  return { dir: `${process.platform}-${process.arch}`, file: libc === undefined ? 'classic_level.node' : `classic_level.${libc}.node` };
}

function checkVersion(dir) {
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (version !== manifest.classicLevelVersion) {
    throw new Error(`the patch in native/leveldb targets classic-level ${manifest.classicLevelVersion}, but ${version} is installed; `
      + 'rebase classic-level-*.patch onto the new version, rebuild the prebuilt binaries (README.md there) and update manifest.json');
  }
}

/** Writes `source` to `target` through a temporary file and a rename (never a half-written addon). */
function installBinary(source, target) {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temporary = `${target}.tmp-${process.pid}`;
  fs.copyFileSync(source, temporary);
  fs.renameSync(temporary, target);
}

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath === undefined ? undefined : path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((candidate) => candidate !== undefined && fs.existsSync(candidate));
}

/** Compiles classic-level with the patch; returns the built binary's path or throws with the reason. */
function buildFromSource(dir) {
  const nodeGyp = findNodeGyp();
  if (nodeGyp === undefined) throw new Error('node-gyp not found (it ships with npm)');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-leveldb-'));
  try {
    fs.cpSync(dir, work, { recursive: true, filter: (source) => !/[\\/](prebuilds|build)$/.test(source) });
    const patch = spawnSync('patch', ['-p1', '--batch', '-i', path.join(here, manifest.patch)], { cwd: work, encoding: 'utf8' });
    if (patch.status !== 0) throw new Error(`applying ${manifest.patch} failed: ${(patch.stderr || patch.stdout || patch.error?.message || '').trim()}`);
    const nodeRoot = path.resolve(path.dirname(process.execPath), '..');
    const args = [nodeGyp, 'rebuild', '-j', String(Math.max(1, os.availableParallelism?.() ?? 2))];
    // Headers of the running Node, when its installation carries them (no download needed).
    if (fs.existsSync(path.join(nodeRoot, 'include', 'node', 'common.gypi'))) args.push(`--nodedir=${nodeRoot}`);
    // binding.gyp runs `node -e "require('napi-macros')"`: resolve it from the repository's node_modules.
    const env = { ...process.env, NODE_PATH: [path.join(repoRoot, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(path.delimiter) };
    const build = spawnSync(process.execPath, args, { cwd: work, env, encoding: 'utf8', timeout: 15 * 60_000 });
    if (build.status !== 0) {
      const tail = `${build.stdout ?? ''}\n${build.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
      throw new Error(`node-gyp failed (a C++ toolchain and Python are needed):\n${tail}`);
    }
    const built = path.join(work, 'build', 'Release', 'classic_level.node');
    const kept = path.join(os.tmpdir(), `tessera-classic_level-${process.pid}.node`);
    fs.copyFileSync(built, kept);
    return kept;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Compiles the patched engine and writes it to `target` once it loads and reports the fix. */
function buildFromSourceInto(dir, target) {
  const built = buildFromSource(dir);
  try {
    const result = probe(built);
    if (!hasFix(result)) throw new Error(`the binary built from source does not report the fix (${result.error ?? 'loaded'})`);
    installBinary(built, target);
  } finally {
    fs.rmSync(built, { force: true });
  }
}

function install() {
  const dir = classicLevelDir();
  checkVersion(dir);
  const target = path.join(dir, 'build', 'Release', 'classic_level.node');
  const failureMarker = path.join(dir, 'build', 'tessera-engine-unavailable.txt');
  if (fs.existsSync(target) && hasFix(probe(target))) return;
  if (fs.existsSync(failureMarker)) {
    warn(`${fs.readFileSync(failureMarker, 'utf8').trim()} (delete ${failureMarker} to retry)`);
    return;
  }
  const reasons = [];
  const { dir: platformDir, file } = platformKey();
  const prebuilt = manifest.prebuilds[`${platformDir}/${file}`];
  if (prebuilt !== undefined) {
    const prebuiltPath = path.join(here, 'prebuilds', platformDir, file);
    if (sha256Of(prebuiltPath) !== prebuilt.sha256) throw new Error(`${prebuiltPath} does not match its SHA-256 in manifest.json`);
    const result = probe(prebuiltPath);
    if (hasFix(result)) {
      installBinary(prebuiltPath, target);
      log(`installed the patched prebuilt binary for ${platformDir} into ${path.relative(repoRoot, target)}`);
      return;
    }
    reasons.push(`the prebuilt binary for ${platformDir} does not load here (${result.error ?? 'no fix reported'})`);
  } else {
    reasons.push(`no prebuilt binary for ${platformDir} (${file})`);
  }
  log(`${reasons.join('; ')}: building classic-level ${manifest.classicLevelVersion} with the patch from source`);
  try {
    buildFromSourceInto(dir, target);
    log(`installed the patched binary built from source into ${path.relative(repoRoot, target)}`);
  } catch (err) {
    const message = `the stock LevelDB 1.20 engine stays in use: ${reasons.join('; ')}, and building from source failed: `
      + `${err instanceof Error ? err.message : String(err)}. Metadata nodes will work, but point reads can return an `
      + 'overwritten value after some compactions (native/leveldb/README.md)';
    fs.mkdirSync(path.dirname(failureMarker), { recursive: true });
    fs.writeFileSync(failureMarker, `${message}\n`);
    warn(message);
  }
}

function status() {
  const dir = classicLevelDir();
  const requireFromClassicLevel = createRequire(path.join(dir, 'package.json'));
  const resolved = requireFromClassicLevel('node-gyp-build').resolve(dir);
  const result = probe(resolved);
  log(`classic-level ${JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version} loads ${path.relative(repoRoot, resolved)}`);
  if (hasFix(result)) {
    log(`patched: ${result.fixes.join(', ')}`);
    return 0;
  }
  warn(result.loads ? 'stock engine, without the compaction fix' : `the binary does not load: ${result.error}`);
  return 1;
}

function buildCommand(args) {
  const outIndex = args.indexOf('--out');
  const out = outIndex === -1 ? undefined : args[outIndex + 1];
  const dir = classicLevelDir();
  checkVersion(dir);
  const target = out ?? path.join(dir, 'build', 'Release', 'classic_level.node');
  buildFromSourceInto(dir, target);
  log(`built ${path.relative(repoRoot, path.resolve(target))} (sha256 ${sha256Of(target)})`);
}

const [command = 'install', ...rest] = process.argv.slice(2);
try {
  switch (command) {
    case 'install':
      install();
      break;
    case 'status':
      process.exitCode = status();
      break;
    case 'build':
      buildCommand(rest);
      break;
    default:
      process.stderr.write(`usage: node native/leveldb/engine.mjs [install|status|build [--out FILE]]\n`);
      process.exitCode = 2;
  }
} catch (err) {
  process.stderr.write(`leveldb engine: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
