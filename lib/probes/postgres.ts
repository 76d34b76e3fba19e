import type pg from 'pg';
import { CouldNotCheck } from '../core/errors.js';
import { execIn, type InContainer, type Reach } from './in-container.js';

/** Connect and statement deadline for every database probe, in ms. @default 5000 */
export const DB_TIMEOUT_MS = 5000;

// Loaded with the first query: a phase that asks the database nothing never pays for it.
const driver = async () => (await import('pg')).default;

/**
 * Runs one query with connect and query deadlines: on a fresh connection to the URL (the password stays in
 * memory), or with psql inside the service's container.
 */
export async function queryOnce<T extends pg.QueryResultRow>(
  reach: Reach,
  sql: string,
  what: string,
  timeoutMs = DB_TIMEOUT_MS,
): Promise<T[]> {
  if (!('url' in reach)) return psqlRows<T>(reach, sql, what, timeoutMs);
  const { Client } = await driver();
  const client = new Client({
    connectionString: reach.url.reveal(),
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const r = await client.query<T>(sql);
    return r.rows;
  } catch (err) {
    throw new CouldNotCheck(`${what}: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => {});
  }
}

export async function selectOne(url: Reach, what: string): Promise<{ value: number; ms: number }> {
  if ('url' in url) await driver();
  const t0 = performance.now();
  const rows = await queryOnce<{ one: number }>(url, 'SELECT 1 AS one', what);
  return { value: rows[0]?.one ?? NaN, ms: performance.now() - t0 };
}

export interface ReplicaStatus {
  inRecovery: boolean;
  /** WAL received but not yet replayed, in bytes. */
  replayLagBytes: number;
  walReceiver: string;
}

export async function replicaStatus(url: Reach): Promise<ReplicaStatus> {
  const rows = await queryOnce<{ in_recovery: boolean; lag: string | null; receiver: string | null }>(
    url,
    `SELECT pg_is_in_recovery() AS in_recovery,
            pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text AS lag,
            (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver`,
    'replica',
  );
  const r = rows[0]!;
  return {
    inRecovery: r.in_recovery,
    replayLagBytes: r.lag === null ? NaN : Number(r.lag),
    walReceiver: r.receiver ?? 'none',
  };
}

/** Whether the database has an alembic_version table, and its rows: no table is a database never migrated. */
export async function alembicState(url: Reach): Promise<{ table: boolean; versions: string[] }> {
  const [row] = await queryOnce<{ present: boolean }>(
    url,
    "SELECT to_regclass('alembic_version') IS NOT NULL AS present",
    'alembic_version',
  );
  return row?.present ? { table: true, versions: await alembicVersion(url) } : { table: false, versions: [] };
}

export async function alembicVersion(url: Reach): Promise<string[]> {
  const rows = await queryOnce<{ version_num: string }>(
    url,
    'SELECT version_num FROM alembic_version ORDER BY 1',
    'alembic_version',
  );
  return rows.map((r) => r.version_num);
}

/**
 * The live database's own tables in `public`, each with the planner's row estimate (`reltuples`; -1 before the
 * first ANALYZE, read as unknown), and the products estimate, counted when the planner has none.
 */
export async function liveTables(
  url: Reach,
): Promise<{ estimates: Record<string, number | null>; products: number | null }> {
  const rows = await queryOnce<{ name: string; estimate: number }>(
    url,
    `SELECT c.relname AS name, c.reltuples::float8 AS estimate
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`,
    'live tables',
  );
  const estimates = Object.fromEntries(rows.map((r) => [r.name, r.estimate >= 0 ? r.estimate : null]));
  if (!('products' in estimates)) return { estimates, products: null };
  const products =
    estimates.products ??
    Number(
      (await queryOnce<{ n: string }>(url, 'SELECT count(*)::text AS n FROM products', 'products count', 60_000))[0]!.n,
    );
  return { estimates, products };
}

/**
 * psql inside the container, as the runbook's `docker exec … psql -U buywhere -d catalog`: its socket and port come
 * from the container's environment (PGPORT and the like). A query comes back as one JSON array, so its rows keep
 * their types as the driver gives them; a SHOW, which cannot be a subquery (PgBouncer's console), comes back as CSV.
 */
async function psqlRows<T>(reach: InContainer, sql: string, what: string, timeoutMs: number): Promise<T[]> {
  const show = /^\s*SHOW\b/i.test(sql);
  const text = show ? sql : `SELECT coalesce(json_agg(q), '[]') FROM (${sql}) q`;
  const login = [...(reach.user ? ['-U', reach.user] : []), ...(reach.database ? ['-d', reach.database] : [])];
  const cmd = ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...login, ...(show ? ['--csv'] : ['-A', '-t']), '-c', text];
  const env = [
    `PGCONNECT_TIMEOUT=${Math.max(1, Math.ceil(timeoutMs / 1000))}`,
    // PgBouncer's console takes no startup options; a database takes its statement deadline from here.
    ...(show ? [] : [`PGOPTIONS=-c statement_timeout=${timeoutMs}`]),
  ];
  const container = await reach.container().catch((err: Error) => {
    throw new CouldNotCheck(`${what}: ${err.message}`, { cause: err });
  });
  const r = await execIn(container, cmd, { env, timeoutMs: timeoutMs + 2000 }).catch((err: Error) => {
    throw new CouldNotCheck(`${what}: ${err.message}`, { cause: err });
  });
  if (r.exitCode !== 0)
    throw new CouldNotCheck(
      `${what}: psql in container ${container.name} exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().split('\n')[0] || 'no message'}`,
    );
  try {
    return show ? (parseCsv(r.stdout) as T[]) : (JSON.parse(r.stdout.trim()) as T[]);
  } catch {
    throw new CouldNotCheck(
      `${what}: psql in container ${container.name} answered something that is not ${show ? 'CSV' : 'JSON'}`,
    );
  }
}

/** psql's --csv output (RFC 4180: quoted fields, doubled quotes, newlines inside quotes) as rows by column name. */
export function parseCsv(text: string): Array<Record<string, string>> {
  const records: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') ((field += '"'), i++);
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (row.push(field), (field = ''));
    else if (ch === '\n') (row.push(field), records.push(row), (row = []), (field = ''));
    else if (ch !== '\r') field += ch;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length) (row.push(field), records.push(row));
  const [header, ...rows] = records;
  if (!header) throw new Error('no header');
  for (const r of rows) if (r.length !== header.length) throw new Error('a row with another number of fields');
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]!])));
}
