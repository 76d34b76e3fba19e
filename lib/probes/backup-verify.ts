// Whether a backup restores: the whole archive is read, every data block included, by the database image's own
// tools in a container with the backups folder mounted read-only. A custom-format archive keeps its table of
// contents at the start, so `pg_restore --list` passes one cut short after it; only reading to the end shows it
// whole. The SQL the archive turns into is counted as it streams past: rows per table, and pg_dump's last line.
import { readFileSync } from 'node:fs';
import type { Backup, BackupFormat } from './backup.js';
import { writeAtomic } from '../core/atomic.js';
import { runOneOff } from './oneoff.js';

/** The last line pg_dump writes, and pg_restore writes again when it has read the whole archive. */
export const completionMarker = '-- PostgreSQL database dump complete';

// sh, not bash: the database image may be a small one. No pipefail in sh, so the reader's exit code travels
// through a file. awk counts the lines between each `COPY … FROM stdin;` and its `\.`, and says whether pg_dump's
// completion marker came with nothing after it but comments and the `\unrestrict` line PostgreSQL 15.14 and
// later write last.
const script = `
PATH="$PATH:$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1)"
f="/backups/$1"
{ case "$2" in
    custom) pg_restore -f - "$f" ;;
    gzip) gzip -dc "$f" ;;
    *) cat "$f" ;;
  esac 2>/tmp/err; echo $? >/tmp/rc; } |
awk '/^COPY / { t = $2; s = NR; done = 0; next }
     /^\\\\\\.$/ { if (t != "") print "rows", t, NR - s - 1; t = ""; next }
     t == "" && NF { last = $0
       if ($0 == "${completionMarker}") done = 1; else if ($0 !~ /^(--|\\\\unrestrict )/) done = 0 }
     END { if (t != "") done = 0; print "last", last; print "done", done + 0 }'
echo "exit $(cat /tmp/rc)"
tail -n 5 /tmp/err | sed 's/^/stderr /'
`;

export interface ArchiveReading {
  complete: boolean;
  /** Why the archive is not complete: the reader's error, or the dump's missing last line. */
  why?: string;
  /** Rows of each table's data in the archive, by table name without its schema. */
  rows: Record<string, number>;
  ms: number;
}

/** The verdict on the container's output: complete only with exit 0 and the completion marker last. */
export function parseReading(
  output: string,
  exitCode: number | undefined,
  timedOut: boolean,
): Omit<ArchiveReading, 'ms'> {
  const rows: Record<string, number> = {};
  let last = '';
  let done = false;
  let readerExit: number | undefined;
  const stderr: string[] = [];
  for (const line of output.split('\n')) {
    // The live tables compared are public's: a table of the same name in another schema is not their data.
    const m = /^rows public\.(\S+) (\d+)$/.exec(line);
    if (m) rows[tableName(m[1]!)] = (rows[tableName(m[1]!)] ?? 0) + Number(m[2]);
    else if (line.startsWith('last ')) last = line.slice(5).trim();
    else if (line === 'done 1') done = true;
    else if (/^exit \d+$/.test(line)) readerExit = Number(line.slice(5));
    else if (line.startsWith('stderr ')) stderr.push(line.slice(7).trim());
  }
  const err = stderr.filter(Boolean).join('; ');
  const why = timedOut
    ? 'reading it did not finish within its deadline'
    : exitCode !== 0
      ? `the verifying container exited ${exitCode}${err ? `: ${err}` : ''}`
      : readerExit !== 0
        ? `it does not read to the end (exit ${readerExit ?? 'unknown'}${err ? `: ${err}` : ''})`
        : !done
          ? `it does not end with pg_dump's "${completionMarker}" (last line: ${JSON.stringify(last.slice(0, 80))}): cut short, or written to after the dump`
          : undefined;
  return why ? { complete: false, why, rows } : { complete: true, rows };
}

/** `products` → `products`; `"Odd"` → `Odd`. */
const tableName = (name: string) => name.replace(/^"(.*)"$/, '$1');

/** Reads one backup in full, in a container of `image` with the backups folder mounted read-only. */
export async function readArchive(
  b: Backup,
  o: { image: string; dir: string; format: BackupFormat; timeoutMs: number },
): Promise<ArchiveReading> {
  const r = await runOneOff({
    image: o.image,
    cmd: ['sh', '-c', script, 'verify-backup', b.name, o.format],
    binds: [`${o.dir}:/backups:ro`],
    user: '0',
    purpose: 'backup-verify',
    timeoutMs: o.timeoutMs,
  });
  return { ...parseReading(r.output, r.exitCode, r.timedOut), ms: r.ms };
}

/**
 * Backups already read in full, by their identity (inode, size, change time): any change to a file's bytes
 * changes its identity. Used only for the previous complete backup, the size the newest is compared with; the
 * backup that decides is read again on every run.
 */
export class VerifiedBackups {
  private entries: Record<string, { bytes: number; rows: Record<string, number> }> = {};
  constructor(private readonly path: string) {
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) this.entries = parsed as typeof this.entries;
    } catch {
      // None yet, or unreadable: every backup is read again.
    }
  }
  has(b: Backup): boolean {
    return this.entries[b.identity]?.bytes === b.bytes;
  }
  remember(b: Backup, rows: Record<string, number>, keep: Backup[]) {
    const live = new Set(keep.map((k) => k.identity));
    this.entries = Object.fromEntries(Object.entries(this.entries).filter(([k]) => live.has(k)));
    this.entries[b.identity] = { bytes: b.bytes, rows };
    try {
      writeAtomic(this.path, JSON.stringify(this.entries), 0o600);
    } catch {
      // A cache that cannot be written costs the next run a second read, nothing more.
    }
  }
}

export interface BackupChoice {
  /** The newest backup that reads to its end: the one that decides. */
  chosen?: Backup & { reading: ArchiveReading };
  /** The complete backup before it, whose size it is compared with. */
  previous?: Backup;
  /** Backups newer than the chosen one that are not complete: each is named as a warning. */
  newerIncomplete: Array<{ file: string; why: string }>;
  /** Time spent reading archives, and their bytes. */
  readMs: number;
  readBytes: number;
}

/** Older backups read, at most, while looking for the previous complete one. */
export const maxOlderReads = 3;

/**
 * Reads backups newest first until one is complete; then finds the complete one before it, remembered from an
 * earlier read or read now. A backup that does not read to its end never decides, however new.
 */
export async function chooseBackup(
  backups: Backup[],
  read: (b: Backup) => Promise<ArchiveReading>,
  verified: Pick<VerifiedBackups, 'has' | 'remember'>,
): Promise<BackupChoice> {
  const choice: BackupChoice = { newerIncomplete: [], readMs: 0, readBytes: 0 };
  const timed = async (b: Backup) => {
    const r = await read(b);
    choice.readMs += r.ms;
    choice.readBytes += b.bytes;
    if (r.complete) verified.remember(b, r.rows, backups);
    return r;
  };
  let i = 0;
  for (; i < backups.length; i++) {
    const b = backups[i]!;
    const r = await timed(b);
    if (r.complete) {
      choice.chosen = { ...b, reading: r };
      break;
    }
    choice.newerIncomplete.push({ file: b.name, why: r.why ?? 'not complete' });
  }
  if (!choice.chosen) return choice;
  let reads = 0;
  for (const older of backups.slice(i + 1)) {
    if (verified.has(older)) {
      choice.previous = older;
      break;
    }
    if (reads++ >= maxOlderReads) break;
    if ((await timed(older)).complete) {
      choice.previous = older;
      break;
    }
  }
  return choice;
}

/** 1.5's measured record: the chosen backup against the live database's tables. */
export function backupRecord(
  choice: BackupChoice,
  live: { estimates: Record<string, number | null>; products: number | null },
  where: { dir: string; notBackups: string[] },
): Record<string, unknown> {
  const c = choice.chosen;
  const base = {
    dir: where.dir,
    not_backups: where.notBackups.slice(0, 5),
    newer_incomplete: choice.newerIncomplete,
    verified_s: choice.readMs / 1000,
    mb_per_s: choice.readMs > 0 ? choice.readBytes / 1e6 / (choice.readMs / 1000) : null,
  };
  if (!c) return { file: null, complete: false, ...base };
  const inArchive = c.reading.rows;
  return {
    file: c.name,
    age_h: c.ageHours,
    bytes: c.bytes,
    complete: c.reading.complete,
    tables_missing: Object.keys(live.estimates).filter((t) => !(t in inArchive)),
    // Recorded for the reader, not judged: a table empty when the backup ran may have rows since.
    tables_empty: Object.entries(live.estimates)
      .filter(([t, est]) => t in inArchive && inArchive[t] === 0 && est !== null && est > 0)
      .map(([t]) => t),
    products_rows: inArchive.products ?? 0,
    products_live: live.products,
    previous: choice.previous ? { file: choice.previous.name, bytes: choice.previous.bytes } : null,
    ...base,
  };
}

// The server runs as the image's postgres user, in a data directory inside the throwaway container: nothing of the
// live db is touched, and the directory goes with the container. root reads the archive (backups are often
// readable by root alone) and hands it to the restore on its standard input.
const drillScript = `
PATH="$PATH:$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1)"
f="/backups/$1"
pg() { su postgres -s /bin/sh -c "PATH='$PATH' PGDATA=/tmp/drill PGHOST=/tmp PGDATABASE=catalog PGUSER=postgres; export PATH PGDATA PGHOST PGDATABASE PGUSER; $1"; }
mkdir -p /tmp/drill && chown postgres /tmp/drill && chmod 700 /tmp/drill
pg 'initdb -A trust -U postgres' >/tmp/init.log 2>&1 || { tail -n 5 /tmp/init.log; exit 10; }
pg 'pg_ctl -w -o "-c listen_addresses= -k /tmp -c fsync=off" -l /tmp/drill.log start' >/dev/null || { tail -n 5 /tmp/drill.log; exit 11; }
pg 'createdb catalog' || exit 12
start=$(date +%s.%N)
case "$2" in
  custom) cat "$f" | pg 'pg_restore --no-owner --no-privileges --exit-on-error -d catalog' ;;
  gzip) gzip -dc "$f" | pg 'psql -q -o /dev/null' ;;
  *) cat "$f" | pg 'psql -q -o /dev/null' ;;
esac
rc=$?
end=$(date +%s.%N)
echo "restore_s $(echo "$start $end" | awk '{ print $2 - $1 }')"
echo "products $(pg "psql -tAq -c 'SELECT count(*) FROM products'" 2>&1 | tail -n 1)"
exit $rc
`;

export interface DrillResult {
  exitCode: number | undefined;
  timedOut: boolean;
  productsRestored: number | null;
  restoreS: number | null;
  /** The end of the container's output when the restore failed. */
  error: string | null;
}

/** Restores one backup into a throwaway container of `image` and counts its products. */
export async function restoreDrill(
  b: Backup,
  o: { image: string; dir: string; format: BackupFormat; timeoutMs: number },
): Promise<DrillResult> {
  const r = await runOneOff({
    image: o.image,
    cmd: ['sh', '-c', drillScript, 'restore-drill', b.name, o.format],
    binds: [`${o.dir}:/backups:ro`],
    user: '0',
    purpose: 'restore-drill',
    timeoutMs: o.timeoutMs,
  });
  const products = /^products (\d+)$/m.exec(r.output);
  const secs = /^restore_s ([\d.]+)$/m.exec(r.output);
  return {
    exitCode: r.exitCode,
    timedOut: r.timedOut,
    productsRestored: products ? Number(products[1]) : null,
    restoreS: secs ? Number(secs[1]) : null,
    error: r.exitCode === 0 ? null : r.output.trim().split('\n').slice(-5).join(' / '),
  };
}
