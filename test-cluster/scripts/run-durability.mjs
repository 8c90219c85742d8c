// `npm run test:durability [-- --containers] [-- <jest args>]`: the full durability profile.
//   (default)      every file of test-cluster/: the nine scenarios on local processes (in a
//                  network namespace when possible) plus the container CI set when Docker answers
//   --containers   only the container mode, every scenario that has one (needs a Docker engine)
// Anything else is passed to jest. Runs after `npm run build` (see the root package.json).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const containers = args.includes('--containers');
const jestArgs = args.filter((a) => a !== '--containers');
const env = { ...process.env, TESSERA_DURABILITY_PROFILE: process.env.TESSERA_DURABILITY_PROFILE ?? 'full' };
if (containers) env.TESSERA_DURABILITY_CONTAINERS = 'full';
const target = containers ? 'test-cluster/test/durability-containers.test.ts' : 'test-cluster/';
console.log(`durability: profile ${env.TESSERA_DURABILITY_PROFILE}, ${containers ? 'container mode only (every container scenario)' : 'local processes + container CI set'}: jest ${target}`);
const jest = path.join(root, 'node_modules', '.bin', 'jest');
const result = spawnSync(jest, ['--runInBand', target, ...jestArgs], { cwd: root, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
