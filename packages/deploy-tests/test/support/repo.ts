/** Paths into the repository, for tests that check files outside this package. */
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../../../..');
export const deployDir = path.join(repoRoot, 'deploy');
