import { createRequire } from 'node:module';

/**
 * What Tessera's build of the LevelDB engine reports when it carries the compaction fix
 * (native/leveldb/README.md). Stock LevelDB 1.20, which classic-level bundles, can move the
 * newest versions of a key one level down while older versions stay above them, and point reads
 * then answer the older value.
 */
export const leveldbCompactionFix = 'leveldb-compaction-keeps-user-key-versions-together';

export interface LevelDbEngine {
  /** Fixes the loaded classic-level binary reports (none for the stock binary). */
  readonly fixes: readonly string[];
  readonly hasCompactionFix: boolean;
}

interface ClassicLevelBinding {
  readonly engine_fixes?: () => string;
}

let engine: LevelDbEngine | undefined;

/** The LevelDB engine this process loads (the same addon `level` opens databases with). */
export function loadedLevelDbEngine(): LevelDbEngine {
  if (engine !== undefined) return engine;
  const requireHere = createRequire(__filename);
  const requireFromLevel = createRequire(requireHere.resolve('level'));
  const binding = requireFromLevel('classic-level/binding') as ClassicLevelBinding;
  const fixes = typeof binding.engine_fixes === 'function' ? binding.engine_fixes().split(',') : [];
  engine = { fixes, hasCompactionFix: fixes.includes(leveldbCompactionFix) };
  return engine;
}
