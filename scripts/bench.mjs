// Runs every package's benchmarks: each `packages/<name>/dist/bench/*.js` (compiled from
// `src/bench/*.ts`) in turn, one process each so they do not disturb one another.
// `npm run bench -- erasure storage-node` runs only the packages named.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
let failures = 0;
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  if (wanted.length > 0 && !wanted.includes(pkg)) continue;
  const dir = join(root, 'packages', pkg, 'dist', 'bench');
  if (!existsSync(dir)) continue;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) {
    console.log(`\n## ${pkg}: ${file.replace(/\.js$/, '')}\n`);
    const result = spawnSync(process.execPath, ['--expose-gc', join(dir, file), ...passThrough], { stdio: 'inherit', cwd: root });
    if (result.status !== 0) failures += 1;
  }
}
process.exit(failures === 0 ? 0 : 1);
