import { describe, expect, test } from 'vitest';
import { check } from '../lib/check';
import { target } from '../lib/config';
import { serviceStates } from '../lib/docker';
import { busiest, showPools } from '../lib/pgbouncer';
import { replicaStatus, selectOne } from '../lib/postgres';
import { ping } from '../lib/redis';

const t = target();
// The runbook runs 1.3 "only if the stack is already running"; Docker's compose labels say whether it is.
const running = await serviceStates(t.composeProject, ['db', 'db_replica', 'pgbouncer', 'redis'])
  .then((s) => [...s.values()].some((c) => c.state === 'running'))
  .catch((err: Error) => err);
const notRunning = running instanceof Error ? `Docker did not answer (${running.message}); 1.3 could not run` : running ? undefined : `stack ${t.composeProject} is not running: the runbook runs 1.3 only on a running stack`;

describe('1.3 Database health (running stack)', () => {
  test('1.3 DB primary: SELECT 1 returns 1', async (ctx) => {
    const c = check(ctx, { id: 'preflight.1.3.primary', threshold: 'SELECT 1 = 1', action: 'HOLD — page Bolt: check `docker logs` of db' });
    if (notRunning) c.skip(notRunning);
    const r = await c.probe(() => selectOne(t.databaseUrl, 'DB primary'));
    c.measured(Math.round(r.ms), 'ms');
    expect(r.value, c.says('SELECT 1 on the primary')).toBe(1);
  });

  test(`1.3 DB replica: SELECT 1, in recovery, streaming, replay lag < ${t.replicaMaxLagBytes} bytes`, async (ctx) => {
    const c = check(ctx, { id: 'preflight.1.3.replica', threshold: `in recovery, streaming, lag < ${t.replicaMaxLagBytes} B`, action: 'HOLD — page Bolt: check db_replica and its WAL receiver' });
    if (notRunning) c.skip(notRunning);
    const one = await c.probe(() => selectOne(t.replicaUrl, 'DB replica'));
    expect(one.value, c.says('SELECT 1 on the replica')).toBe(1);
    const s = await c.probe(() => replicaStatus(t.replicaUrl));
    c.measured(s.replayLagBytes, 'bytes');
    expect(s.inRecovery, c.says('pg_is_in_recovery() on the replica')).toBe(true);
    expect(s.walReceiver, c.says('WAL receiver status')).toBe('streaming');
    expect(s.replayLagBytes, c.says('WAL received but not replayed, bytes')).toBeLessThan(t.replicaMaxLagBytes);
  });

  test('1.3 PgBouncer: pool usage < 70% and no client waiting', async (ctx) => {
    const c = check(ctx, { id: 'preflight.1.3.pgbouncer', threshold: '< 70%, cl_waiting = 0', unit: '%', action: 'HOLD — page Bolt: find what holds the pool (SHOW CLIENTS)' });
    if (notRunning) c.skip(notRunning);
    const pools = await c.probe(() => showPools(t.pgbouncerAdminUrl));
    const worst = busiest(pools);
    c.measured(Math.round(worst.usagePct * 10) / 10, '%');
    expect(worst.waiting, c.says(`clients waiting for pool ${worst.database}/${worst.user}`)).toBe(0);
    expect(worst.usagePct, c.says(`pool ${worst.database}/${worst.user} usage % (sv_active ${worst.active} of ${worst.poolSize})`)).toBeLessThan(70);
  });

  test('1.3 Redis: PING returns PONG', async (ctx) => {
    const c = check(ctx, { id: 'preflight.1.3.redis', threshold: 'PONG', action: 'HOLD — page Bolt: check `docker logs` of redis' });
    if (notRunning) c.skip(notRunning);
    const r = c.measured(await c.probe(() => ping(t.redisUrl)));
    expect(r, c.says('Redis PING')).toBe('PONG');
  });
});
