import { closeSync, openSync, readFileSync, rmSync, writeSync, fsyncSync } from 'node:fs';
import { hostname } from 'node:os';
import { pidAlive } from '../core/pid.js';
import { join } from 'node:path';
import { Refused } from '../core/errors.js';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export interface Lock {
  path: string;
  holder: LockHolder;
  /** Set when a stale lock (its holder gone) was found and taken over. */
  tookOverFrom?: LockHolder;
  release(): void;
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** The holder the lock file names now, as read back from disk; undefined when there is none or it does not parse. */
export function readLockHolder(projectDir: string): LockHolder | undefined {
  return readHolder(join(projectDir, '.deploy.lock'));
}

/**
 * Takes the deploy lock in the project directory (deploy and rollback share it). A second taker is refused
 * at once with the holder's pid, host and start time. A lock whose holder process is gone on this host is
 * stale: it is reported and taken over. A lock from another host is never taken over.
 */
export function acquireLock(projectDir: string, command: string): Lock {
  const path = join(projectDir, '.deploy.lock');
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command };
  let tookOverFrom: LockHolder | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, JSON.stringify(holder) + '\n');
      fsyncSync(fd);
      closeSync(fd);
      return {
        path,
        holder,
        tookOverFrom,
        release() {
          if (readHolder(path)?.pid === holder.pid) rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const other = readHolder(path);
      const stale = other ? other.host === holder.host && !pidAlive(other.pid) : true;
      if (!stale) {
        throw new Refused(
          `${command} refused: ${other!.command} holds the deploy lock (pid ${other!.pid} on ${other!.host}, since ${other!.startedAt})`,
          `wait for it to finish; if that process is gone from ${other!.host}, remove ${path}`,
        );
      }
      tookOverFrom = other ?? { pid: 0, host: 'unknown', startedAt: 'unknown', command: 'unreadable lock file' };
      rmSync(path, { force: true });
    }
  }
  throw new Refused(`${command} refused: could not take ${path}`, `remove ${path} if no deploy or rollback is running`);
}
