import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CouldNotCheck } from '../core/errors.js';

/** Dump formats a backup can be recognised by, from its first bytes. */
export const backupFormats = {
  /** pg_dump -Fc */
  custom: (head: Buffer) => head.subarray(0, 5).toString('latin1') === 'PGDMP',
  /** pg_dump | gzip */
  gzip: (head: Buffer) => head[0] === 0x1f && head[1] === 0x8b,
  /** pg_dump plain SQL */
  sql: (head: Buffer) => head.subarray(0, 2).toString('latin1') === '--',
} as const;
export type BackupFormat = keyof typeof backupFormats;

export interface Backup {
  file: string;
  bytes: number;
  modified: Date;
  ageHours: number;
}

export interface BackupScan {
  newest: Backup | undefined;
  /** Files in the folder that are not backups: wrong name, empty, or without the dump header. */
  ignored: string[];
}

/** A shell-style pattern (`*` and `?` only) as a whole-name regular expression. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/**
 * The newest real backup: a file named as the backup command names them, that starts with the dump format's
 * header. Dot-files are dumps in progress. A log file or an empty file is not a backup.
 */
export async function newestBackup(
  dir: string,
  opts: { pattern: string; format: BackupFormat },
  now = new Date(),
): Promise<BackupScan> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new CouldNotCheck(`cannot list backups in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const named = globToRegExp(opts.pattern);
  const looksLike = backupFormats[opts.format];
  let newest: Backup | undefined;
  const ignored: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    const s = await stat(path).catch(() => undefined);
    if (!s?.isFile()) continue;
    if (!named.test(name) || s.size === 0 || !looksLike(await head(path))) {
      ignored.push(name);
      continue;
    }
    if (!newest || s.mtime > newest.modified) {
      newest = {
        file: path,
        bytes: s.size,
        modified: s.mtime,
        ageHours: (now.getTime() - s.mtime.getTime()) / 3_600_000,
      };
    }
  }
  return { newest, ignored };
}

async function head(path: string): Promise<Buffer> {
  const f = await open(path, 'r').catch(() => undefined);
  if (!f) return Buffer.alloc(0);
  try {
    const buf = Buffer.alloc(8);
    const { bytesRead } = await f.read(buf, 0, 8, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await f.close();
  }
}
