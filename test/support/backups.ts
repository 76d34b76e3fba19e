// Backups for 1.5's end-to-end tests, all real pg_dump archives of the staging catalog: copies of the backup the
// stack wrote, copies cut short, and a complete archive that holds a thousandth of the products.
import { copyFileSync, mkdtempSync, openSync, closeSync, ftruncateSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { scanBackups } from '../../lib/probes/backup';
import { runOneOff } from '../../lib/probes/oneoff';
import { orchestratorFor } from '../../lib/operations/orchestrators';
import { readStagingEnv } from '../../staging/project';
import { t } from './harness';

/** The newest backup the staging stack wrote. */
export async function newestStagingBackup(): Promise<string> {
  const scan = await scanBackups(t.backupsDir, { pattern: t.backupPattern, format: t.backupFormat });
  const newest = scan.backups[0];
  if (!newest) throw new Error(`staging has no backup in ${t.backupsDir}`);
  return newest.file;
}

export const backupsFolder = () => mkdtempSync(join(tmpdir(), 'rb-backups-'));

/** Puts a copy of `from` in `dir`, dated `hoursAgo`, and cut to `keepBytes` when given. */
export function placeBackup(from: string, dir: string, name: string, hoursAgo: number, keepBytes?: number): string {
  const to = join(dir, name);
  copyFileSync(from, to);
  if (keepBytes !== undefined) {
    const fd = openSync(to, 'r+');
    try {
      ftruncateSync(fd, keepBytes);
    } finally {
      closeSync(fd);
    }
  }
  const when = new Date(Date.now() - hoursAgo * 3_600_000);
  utimesSync(to, when, when);
  return to;
}

/** Half of a real archive: its table of contents whole, its data cut off part-way. */
export const half = (file: string) => Math.floor(statSync(file).size / 2);

/**
 * A complete archive of a copy of the catalog with every table but only 1,000 products: a backup that reads to
 * its end and is near-empty. Made in a database of its own, dropped afterwards; the live catalog is only read.
 */
export const nearEmptyBackup = (dir: string, name: string) => fromLive(dir, name, nearEmptyScript);

/** A complete archive of the live catalog written without compression: several times the size of staging's own. */
export const uncompressedBackup = (dir: string, name: string) =>
  fromLive(dir, name, 'set -e; PGHOST=127.0.0.1 PGUSER=buywhere pg_dump -Fc -Z 0 -d catalog -f "/out/$1"');

const nearEmptyScript = `
set -e
export PGHOST=127.0.0.1 PGUSER=buywhere
psql -qd postgres -c 'DROP DATABASE IF EXISTS catalog_near_empty' -c 'CREATE DATABASE catalog_near_empty'
pg_dump -s -d catalog | psql -q -o /dev/null -d catalog_near_empty
for t in $(psql -Atd catalog -c "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'public' AND relkind = 'r' AND relname <> 'products'"); do
  psql -d catalog -c "COPY $t TO STDOUT" | psql -q -d catalog_near_empty -c "COPY $t FROM STDIN"
done
cols=$(psql -Atd catalog -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'products'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''")
psql -d catalog -c "COPY (SELECT $cols FROM products ORDER BY id LIMIT 1000) TO STDOUT" | psql -q -d catalog_near_empty -c "COPY products ($cols) FROM STDIN"
pg_dump -Fc -d catalog_near_empty -f "/out/$1"
psql -qd postgres -c 'DROP DATABASE catalog_near_empty'
`;

/** Runs `script` in a container of the db image on the host network, with the database password in its env. */
async function fromLive(dir: string, name: string, script: string): Promise<string> {
  const [db] = await orchestratorFor(t).replicas('db');
  if (!db) throw new Error('no running db container');
  const env = readStagingEnv();
  const r = await runOneOff({
    image: db.imageId,
    cmd: ['sh', '-c', script, 'from-live', name],
    binds: [`${dir}:/out`],
    env: [`PGPASSWORD=${env.get('POSTGRES_PASSWORD')}`, `PGPORT=${env.get('DB_PORT')}`],
    network: 'host',
    user: '0',
    purpose: 'test-backup-from-live',
    timeoutMs: 120_000,
  });
  if (r.exitCode !== 0) throw new Error(`backup from the live catalog: exit ${r.exitCode}\n${r.output}`);
  return join(dir, name);
}

/** The SQL a custom archive holds, as pg_dump's plain format would have written it; gzipped when asked. */
export async function plainBackup(from: string, dir: string, name: string, gzip: boolean): Promise<string> {
  const [db] = await orchestratorFor(t).replicas('db');
  if (!db) throw new Error('no running db container');
  const r = await runOneOff({
    image: db.imageId,
    cmd: [
      'sh',
      '-c',
      gzip ? 'pg_restore -f - "/in/$1" | gzip -1 > "/out/$2"' : 'pg_restore -f "/out/$2" "/in/$1"',
      'plain',
      basename(from),
      name,
    ],
    binds: [`${dirname(from)}:/in:ro`, `${dir}:/out`],
    user: '0',
    purpose: 'test-plain-backup',
    timeoutMs: 120_000,
  });
  if (r.exitCode !== 0) throw new Error(`plain backup: exit ${r.exitCode}\n${r.output}`);
  return join(dir, name);
}
