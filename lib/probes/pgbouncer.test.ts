import { describe, expect, it } from 'vitest';
import { busiest, poolUsage } from './pgbouncer';

describe('PgBouncer pool usage', () => {
  const databases = [
    { name: 'catalog', pool_size: 20 },
    { name: 'pgbouncer', pool_size: 2 },
  ];
  it('is sv_active / pool_size, per pool, ignoring the admin console', () => {
    const pools = poolUsage(
      [
        { database: 'catalog', user: 'buywhere', sv_active: 15, cl_waiting: 0 },
        { database: 'pgbouncer', user: 'pgbouncer', sv_active: 2, cl_waiting: 0 },
      ],
      databases,
    );
    expect(pools).toHaveLength(1);
    expect(pools[0]!.usagePct).toBe(75);
  });

  it('the busiest pool is the one with waiting clients, whatever its percentage', () => {
    const pools = poolUsage(
      [
        { database: 'catalog', user: 'a', sv_active: 13, cl_waiting: 0 },
        { database: 'catalog', user: 'b', sv_active: 2, cl_waiting: 3 },
      ],
      databases,
    );
    expect(busiest(pools).user).toBe('b');
  });

  it('falls back to the default pool size when SHOW DATABASES lacks the database', () => {
    expect(poolUsage([{ database: 'other', user: 'u', sv_active: '10', cl_waiting: '0' }], [])[0]!.usagePct).toBe(50);
  });
});
