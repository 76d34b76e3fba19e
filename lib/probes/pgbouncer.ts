import { queryOnce } from './postgres.js';
import type { Reach } from './in-container.js';

export interface PoolUsage {
  database: string;
  user: string;
  active: number;
  waiting: number;
  poolSize: number;
  /** Server connections in use by clients, as a percentage of the pool size. */
  usagePct: number;
}

type Row = Record<string, string | number | null>;
const num = (v: unknown) => (v === null || v === undefined || v === '' ? 0 : Number(v));

/**
 * Pool usage from the admin console. For each pool (database, user), excluding the admin console itself:
 *   usage % = sv_active / pool_size × 100
 * where sv_active is the server connections linked to a client and pool_size comes from SHOW DATABASES
 * (the database's own pool_size, else default_pool_size). cl_waiting > 0 means clients queue for a
 * connection: the pool is saturated whatever the percentage says. Columns are read by name because they
 * differ between PgBouncer versions.
 */
export function poolUsage(pools: Row[], databases: Row[]): PoolUsage[] {
  const sizes = new Map(databases.map((d) => [String(d.name), num(d.pool_size)]));
  return pools
    .filter((p) => p.database !== 'pgbouncer')
    .map((p) => {
      const poolSize = sizes.get(String(p.database)) || 20;
      const active = num(p.sv_active);
      return {
        database: String(p.database),
        user: String(p.user),
        active,
        waiting: num(p.cl_waiting),
        poolSize,
        usagePct: (active / poolSize) * 100,
      };
    });
}

export async function showPools(adminUrl: Reach): Promise<PoolUsage[]> {
  const pools = await queryOnce<Row>(adminUrl, 'SHOW POOLS', 'PgBouncer SHOW POOLS');
  const databases = await queryOnce<Row>(adminUrl, 'SHOW DATABASES', 'PgBouncer SHOW DATABASES');
  return poolUsage(pools, databases);
}

/** The busiest pool, or an idle placeholder when PgBouncer has no pools yet. */
export function busiest(pools: PoolUsage[]): PoolUsage {
  return pools.reduce<PoolUsage>((worst, p) => (p.waiting > worst.waiting || p.usagePct > worst.usagePct ? p : worst), {
    database: '-',
    user: '-',
    active: 0,
    waiting: 0,
    poolSize: 0,
    usagePct: 0,
  });
}
