// Which run of a phase last wrote to a reports folder, kept beside the evidence key rather than in the reports.
// The seal shows a file is as some run wrote it; this shows it is the last run's, so an earlier passing file put
// back after a failing run, or a copy from another folder, does not count.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeAtomic } from '../core/atomic.js';

export interface LastRun {
  phase: string;
  reportsDir: string;
  startedAt: string;
  /** The seal of the evidence it wrote; null while it runs, and for ever if it died before writing. */
  seal: string | null;
}

const folder = (dir: string) => {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
};
const runsDir = (keyFile: string) => join(dirname(keyFile), 'runs');
export const lastRunPath = (keyFile: string, reportsDir: string, phase: string) =>
  join(runsDir(keyFile), `${createHash('sha256').update(folder(reportsDir)).digest('hex').slice(0, 24)}-${phase}.json`);

function write(keyFile: string, run: LastRun) {
  mkdirSync(runsDir(keyFile), { recursive: true, mode: 0o700 });
  writeAtomic(lastRunPath(keyFile, run.reportsDir, run.phase), JSON.stringify(run) + '\n', 0o600);
}

/**
 * A run of `phase` starts writing to `reportsDir`: until it writes, no evidence there counts. Records of folders
 * that are gone are dropped, so the runs directory holds one small file per folder in use.
 */
export function recordStart(keyFile: string, reportsDir: string, phase: string, startedAt: string): string | undefined {
  try {
    prune(keyFile);
    // Made first, so that the start and the write name the folder by the same real path.
    mkdirSync(reportsDir, { recursive: true });
    write(keyFile, { phase, reportsDir: folder(reportsDir), startedAt, seal: null });
    return undefined;
  } catch (err) {
    return `the start of this ${phase} run could not be recorded in ${runsDir(keyFile)}: ${(err as Error).message}`;
  }
}

export function recordWritten(keyFile: string, reportsDir: string, phase: string, startedAt: string, seal: string) {
  write(keyFile, { phase, reportsDir: folder(reportsDir), startedAt, seal });
}

/** Records of folders that are gone are dropped at most this often: dropping them reads every record. */
export const pruneEveryMs = 10 * 60_000;

function prune(keyFile: string) {
  // When the records were last pruned: the marker's time, kept beside the runs directory rather than in it.
  const marker = join(dirname(keyFile), 'runs.pruned');
  try {
    if (Math.abs(Date.now() - statSync(marker).mtimeMs) < pruneEveryMs) return;
  } catch {
    // Never pruned here.
  }
  let names: string[] = [];
  try {
    names = readdirSync(runsDir(keyFile));
  } catch {
    // None recorded yet.
  }
  for (const name of names) {
    const path = join(runsDir(keyFile), name);
    try {
      const run = JSON.parse(readFileSync(path, 'utf8')) as Partial<LastRun>;
      if (typeof run.reportsDir === 'string' && !existsSync(run.reportsDir)) rmSync(path, { force: true });
    } catch {
      // A record being written by another run, or unreadable: left for the gate to report.
    }
  }
  try {
    writeFileSync(marker, '', { mode: 0o600 });
  } catch {
    // Pruned again at the next start.
  }
}

/**
 * Why sealed evidence of `phase` in `reportsDir` is not what the last run of that phase there wrote; undefined
 * when it is. `seal` is the file's own.
 */
export function lastRunProblem(
  keyFile: string,
  reportsDir: string,
  phase: string,
  seal: unknown,
  startedAt: unknown,
): string | undefined {
  const path = lastRunPath(keyFile, reportsDir, phase);
  let run: Partial<LastRun>;
  try {
    run = JSON.parse(readFileSync(path, 'utf8')) as Partial<LastRun>;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? `no ${phase} run on this host is recorded as writing to ${folder(reportsDir)} (${path}): it was copied here, written by hand, or written before this host recorded its runs`
      : `the record of the last ${phase} run (${path}) cannot be read: ${(err as Error).message}`;
  }
  if (run.seal === null)
    return `the last ${phase} run, started ${String(run.startedAt)}, wrote no evidence (stopped, or still running); this file is from a run started ${String(startedAt)}`;
  if (typeof run.seal !== 'string') return `the record of the last ${phase} run (${path}) is malformed`;
  if (run.seal !== seal)
    return `it is not the last ${phase} run's: that run started ${String(run.startedAt)}, this file's run ${String(startedAt)}; an earlier file was put back`;
  return undefined;
}
