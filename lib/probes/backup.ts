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
  /** The file's name in the folder, as a container that mounts the folder sees it. */
  name: string;
  bytes: number;
  modified: Date;
  ageHours: number;
  /** What changes when the file's bytes change (inode, size, change time): a verification is kept by it. */
  identity: string;
}

export interface BackupScan {
  /** Every file that looks like a backup, newest first. */
  backups: Backup[];
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
 * The files that look like backups, newest first: named as the backup command names them, starting with the
 * dump format's header. Dot-files are dumps in progress. A log file or an empty file is not a backup. Looking like
 * one is not being one: 1.5 reads each in full (backup-verify) before it counts.
 */
export async function scanBackups(
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
  const backups: Backup[] = [];
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
    backups.push({
      file: path,
      name,
      bytes: s.size,
      modified: s.mtime,
      ageHours: (now.getTime() - s.mtime.getTime()) / 3_600_000,
      identity: `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`,
    });
  }
  backups.sort((a, b) => b.modified.getTime() - a.modified.getTime() || (a.name < b.name ? 1 : -1));
  return { backups, ignored };
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
