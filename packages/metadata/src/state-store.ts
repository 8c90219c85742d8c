import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSnapshotMetadata, encodeSnapshotMetadata } from '@tessera/raft';
import type { SnapshotMetadata } from '@tessera/raft';
import type { CatalogueDb } from './catalogue-db';
import { openCatalogueDb } from './catalogue-db';
import { table } from './keys';

/**
 * Which state-machine directory is live. Installing a snapshot writes a complete new LevelDB
 * next to the live one, then switches this pointer file with write-temp + fsync + rename +
 * fsync-dir: a crash leaves either the old or the new keyspace, never a mix.
 */
const pointerFileName = 'STATE_CURRENT';
const initialStateDirName = 'state-0';
const stagingPrefix = 'state-staging-';

/** Written into a staged keyspace: the Raft snapshot point it represents (README, key 0x7f 'snapmeta'). */
export const snapshotMetadataKey = Buffer.from([table.meta, ...Buffer.from('snapmeta', 'utf8')]);

export async function readSnapshotMetadata(db: CatalogueDb): Promise<SnapshotMetadata | undefined> {
  const bytes = await db.get(snapshotMetadataKey);
  return bytes === undefined ? undefined : decodeSnapshotMetadata(bytes);
}

export class StateStore {
  private constructor(readonly dataDir: string, private currentDirName: string) {}

  static async open(dataDir: string): Promise<{ store: StateStore; db: CatalogueDb }> {
    await mkdir(dataDir, { recursive: true });
    let currentDirName = initialStateDirName;
    try {
      currentDirName = (await readFile(join(dataDir, pointerFileName), 'utf8')).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const store = new StateStore(dataDir, currentDirName);
    await store.removeLeftovers();
    return { store, db: await openCatalogueDb(join(dataDir, currentDirName)) };
  }

  /** A fresh directory for receiving a snapshot. */
  async createStagingDb(index: number): Promise<{ dirName: string; db: CatalogueDb }> {
    const dirName = `${stagingPrefix}${index}-${randomBytes(4).toString('hex')}`;
    return { dirName, db: await openCatalogueDb(join(this.dataDir, dirName)) };
  }

  async discardStaging(dirName: string): Promise<void> {
    await rm(join(this.dataDir, dirName), { recursive: true, force: true });
  }

  /** Makes a closed, complete staged directory the live state; returns it opened. */
  async switchTo(stagedDirName: string): Promise<{ db: CatalogueDb; previousDirName: string }> {
    const liveName = `state-live-${randomBytes(6).toString('hex')}`;
    await rename(join(this.dataDir, stagedDirName), join(this.dataDir, liveName));
    const tempPath = join(this.dataDir, `${pointerFileName}.tmp`);
    await writeFile(tempPath, liveName);
    await fsyncPath(tempPath);
    await rename(tempPath, join(this.dataDir, pointerFileName));
    await fsyncPath(this.dataDir);
    const previous = this.currentDirName;
    this.currentDirName = liveName;
    return { db: await openCatalogueDb(join(this.dataDir, liveName)), previousDirName: previous };
  }

  async removeDir(dirName: string): Promise<void> {
    if (dirName === this.currentDirName) return;
    await rm(join(this.dataDir, dirName), { recursive: true, force: true });
  }

  /** Staging dirs of interrupted transfers and superseded state dirs. */
  private async removeLeftovers(): Promise<void> {
    for (const name of await readdir(this.dataDir)) {
      if (name.startsWith('state-') && name !== this.currentDirName) await rm(join(this.dataDir, name), { recursive: true, force: true });
    }
  }
}

export function encodeSnapshotMeta(metadata: SnapshotMetadata): Buffer {
  return Buffer.from(encodeSnapshotMetadata(metadata));
}

/** fsync of a file or directory (a directory: its entries, after a create, rename or unlink). */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
