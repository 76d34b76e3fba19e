import type pg from 'pg';
import { CouldNotCheck } from '../core/errors.js';
import type { Secret } from '../core/secret.js';

/** Connect and statement deadline for every database probe, in ms. @default 5000 */
export const DB_TIMEOUT_MS = 5000;

// Loaded with the first query: a phase that asks the database nothing never pays for it.
const driver = async () => (await import('pg')).default;

/** Runs one query on a fresh connection with connect and query deadlines; the password stays in memory. */
export async function queryOnce<T extends pg.QueryResultRow>(
  url: Secret,
  sql: string,
  what: string,
  timeoutMs = DB_TIMEOUT_MS,
): Promise<T[]> {
  const { Client } = await driver();
  const client = new Client({
    connectionString: url.reveal(),
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

export async function selectOne(url: Secret, what: string): Promise<{ value: number; ms: number }> {
  await driver();
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

export async function replicaStatus(url: Secret): Promise<ReplicaStatus> {
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
export async function alembicState(url: Secret): Promise<{ table: boolean; versions: string[] }> {
  const [row] = await queryOnce<{ present: boolean }>(
    url,
    "SELECT to_regclass('alembic_version') IS NOT NULL AS present",
    'alembic_version',
  );
  return row?.present ? { table: true, versions: await alembicVersion(url) } : { table: false, versions: [] };
}

export async function alembicVersion(url: Secret): Promise<string[]> {
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
  url: Secret,
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
