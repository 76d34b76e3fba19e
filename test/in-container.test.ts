// The data services' own clients, run inside their containers through the engine's exec API: against a scratch
// container for the edges (exit codes, a missing client, a deadline, a flood of output), and against staging's
// real db, replica, PgBouncer and Redis with no URL and no password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../lib/probes/engine';
import { execIn, type ContainerRef } from '../lib/probes/in-container';
import { isCouldNotCheck } from '../lib/core/errors';
import { inContainer } from '../lib/harness/data-services';
import { alembicState, queryOnce, replicaStatus, selectOne } from '../lib/probes/postgres';
import { showPools } from '../lib/probes/pgbouncer';
import { memory, ping } from '../lib/probes/redis';
import { oneOffLabel } from '../lib/probes/oneoff';
import { readStagingEnv } from '../staging/project';
import { t } from './support/harness';

let scratch: ContainerRef;

beforeAll(async () => {
  const created = await engine<{ Id: string }>('/containers/create', {
    method: 'POST',
    body: {
      Image: readStagingEnv().get('BASE_IMAGE'),
      Cmd: ['sleep', '600'],
      Env: ['FROM_CONTAINER=kept'],
      Labels: { [oneOffLabel]: 'in-container test' },
      HostConfig: { NetworkMode: 'none' },
    },
  });
  await engine(`/containers/${created.Id}/start`, { method: 'POST' });
  scratch = { id: created.Id, name: 'scratch', env: new Map() };
});

afterAll(async () => {
  if (scratch) await engine(`/containers/${scratch.id}`, { method: 'DELETE', query: { force: true } });
});

const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the call is refused').toBeDefined();
  expect(isCouldNotCheck(err), 'as could-not-check').toBe(true);
  return (err as Error).message;
};

describe('a client run in a container', () => {
  it('gives its exit code and its two streams apart, with the environment given added to the container’s own', async () => {
    const r = await execIn(scratch, ['sh', '-c', 'echo "$FROM_CONTAINER $GIVEN"; echo to-stderr >&2; exit 3'], {
      env: ['GIVEN=added'],
      timeoutMs: 10_000,
    });
    expect(r).toEqual({ exitCode: 3, stdout: 'kept added\n', stderr: 'to-stderr\n' });
  });

  it('a client the image lacks is could-not-check, naming the container and the client', async () => {
    expect(await refusal(execIn(scratch, ['no-such-client', 'ping'], { timeoutMs: 10_000 }))).toMatch(
      /container scratch cannot run `no-such-client`/,
    );
  });

  it('no exit within the deadline is could-not-check, within the deadline', async () => {
    const t0 = performance.now();
    expect(await refusal(execIn(scratch, ['sleep', '30'], { timeoutMs: 700 }))).toMatch(
      /`sleep` in container scratch gave no answer within 700 ms/,
    );
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('output past the bound is refused, never buffered without end', async () => {
    expect(
      await refusal(execIn(scratch, ['head', '-c', '3000000', '/dev/zero'], { timeoutMs: 10_000, maxBytes: 65_536 })),
    ).toMatch(/wrote more than 65536 bytes/);
  });

  it('a container that is gone is could-not-check', async () => {
    const gone = { ...scratch, id: 'f'.repeat(64), name: 'gone' };
    expect(await refusal(execIn(gone, ['true'], { timeoutMs: 5000 }))).toMatch(/cannot run `true` in container gone/);
  });
});

describe("staging's data services answer the runbook's own commands, with no URL and no password", () => {
  it('psql -U buywhere -d catalog in db and db_replica: SELECT 1, the replica streaming, alembic_version', async () => {
    expect((await selectOne(inContainer(t, 'db'), 'DB primary')).value).toBe(1);
    const s = await replicaStatus(inContainer(t, 'db_replica'));
    expect(s).toMatchObject({ inRecovery: true, walReceiver: 'streaming' });
    expect(Number.isFinite(s.replayLagBytes)).toBe(true);
    expect((await alembicState(inContainer(t, 'db'))).versions.length).toBe(1);
    // Types come back as the driver gives them: booleans, numbers, text, null.
    expect(
      await queryOnce(inContainer(t, 'db'), 'SELECT true AS b, 2 AS n, \'x,"y"\' AS s, NULL AS z', 'types'),
    ).toEqual([{ b: true, n: 2, s: 'x,"y"', z: null }]);
  });

  it('a failing statement is could-not-check with psql’s exit code and its first line', async () => {
    expect(await refusal(queryOnce(inContainer(t, 'db'), 'SELECT * FROM no_such_table', 'probe'))).toMatch(
      /probe: psql in container \S*db\S* exited [1-3]: .*no_such_table/,
    );
  });

  it("SHOW POOLS on PgBouncer's console as user pgbouncer, and PING and INFO memory with the container's own auth", async () => {
    const pools = await showPools(inContainer(t, 'pgbouncer'));
    expect(pools.map((p) => p.database)).toContain('catalog');
    expect(pools.every((p) => Number.isFinite(p.usagePct) && p.poolSize > 0)).toBe(true);
    expect(await ping(inContainer(t, 'redis'))).toBe('PONG');
    const m = await memory(inContainer(t, 'redis'));
    expect(m.maxBytes).toBeGreaterThan(0);
    expect(m.usagePct).toBeGreaterThan(0);
  });

  it('over TCP, the same services still ask for their passwords', async () => {
    const r = await execIn(
      await inContainer(t, 'db').container(),
      ['psql', '-X', '-h', '127.0.0.1', '-U', 'buywhere', '-d', 'catalog', '-w', '-c', 'SELECT 1'],
      { timeoutMs: 10_000 },
    );
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/password/);
  });
});
