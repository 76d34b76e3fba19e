import { describe, test } from 'vitest';
import { check } from '../lib/harness/check';
import { target } from '../lib/harness/run';
import { dataServices } from '../lib/harness/data-services';
import { orchestratorFor } from '../lib/operations/orchestrators';
import { showPools } from '../lib/probes/pgbouncer';
import { replicaStatus, selectOne } from '../lib/probes/postgres';
import { ping } from '../lib/probes/redis';
import { titleOf } from '../runbook/catalogue';

const t = target();
const data = dataServices(t);
// The runbook runs 1.3 "only if the stack is already running"; the orchestrator says whether it is (Compose's
// labels, or the Swarm stack's tasks).
// A Docker engine that does not answer means 1.3 could not run: an error, never a skip. Asked once, for the four.
const running = orchestratorFor(t)
  .services(['db', 'db_replica', 'pgbouncer', 'redis'])
  .then((s) => [...s.values()].some((c) => c.state === 'running'))
  .catch((err: Error) => err);

async function precondition(c: ReturnType<typeof check>) {
  const r = await running;
  if (r instanceof Error) c.couldNotCheck(`Docker did not answer (${r.message}); 1.3 could not run`);
  if (!r)
    c.skip(
      `stack ${t.composeProject} is not running: the runbook runs 1.3 only on a running stack; rerun preflight once it runs`,
    );
}

// Four independent reads of four services: side by side.
describe.concurrent('1.3 Database health (running stack)', () => {
  test(titleOf('preflight.1.3.primary'), async (ctx) => {
    const c = check(ctx, 'preflight.1.3.primary');
    await precondition(c);
    const r = await c.probe(() => selectOne(data.primary, 'DB primary'));
    c.judge({ select1: r.value, ms: Math.round(r.ms) });
  });

  test(`${titleOf('preflight.1.3.replica')} (${t.replicaMaxLagBytes} bytes)`, async (ctx) => {
    const c = check(ctx, 'preflight.1.3.replica');
    await precondition(c);
    const one = await c.probe(() => selectOne(data.replica, 'DB replica'));
    const s = await c.probe(() => replicaStatus(data.replica));
    c.judge({
      select1: one.value,
      in_recovery: s.inRecovery,
      wal_receiver: s.walReceiver ?? null,
      replay_lag_bytes: s.replayLagBytes,
    });
  });

  test(titleOf('preflight.1.3.pgbouncer'), async (ctx) => {
    const c = check(ctx, 'preflight.1.3.pgbouncer');
    await precondition(c);
    const pools = await c.probe(() => showPools(data.pgbouncer));
    const busiest = pools.reduce(
      (a, p) => (p.usagePct > a.usagePct ? p : a),
      pools[0] ?? { database: '-', user: '-', usagePct: 0, waiting: 0 },
    );
    const waiting = pools.filter((p) => p.waiting > 0);
    c.judge({
      usage_pct: busiest.usagePct,
      pool: `${busiest.database}/${busiest.user}`,
      cl_waiting: waiting.reduce((n, p) => n + p.waiting, 0),
      waiting_pool: waiting.map((p) => `${p.database}/${p.user}`).join(', ') || null,
    });
  });

  test(titleOf('preflight.1.3.redis'), async (ctx) => {
    const c = check(ctx, 'preflight.1.3.redis');
    await precondition(c);
    c.judge({ reply: await c.probe(() => ping(data.redis)) });
  });
});
