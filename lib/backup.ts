import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CouldNotCheck } from './errors.js';

export interface Backup {
  file: string;
  bytes: number;
  modified: Date;
  ageHours: number;
}

/** The newest non-empty backup file. Dot-files are partial dumps in progress and never count. */
export async function newestBackup(dir: string, now = new Date()): Promise<Backup | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new CouldNotCheck(`cannot list backups in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  let newest: Backup | undefined;
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const s = await stat(join(dir, name)).catch(() => undefined);
    if (!s?.isFile() || s.size === 0) continue;
    if (!newest || s.mtime > newest.modified) {
      newest = { file: join(dir, name), bytes: s.size, modified: s.mtime, ageHours: (now.getTime() - s.mtime.getTime()) / 3_600_000 };
    }
  }
  return newest;
}
