// Runbook section 2: the deploy, one setup hook per step, then the step's pass criteria. A failing step
// stops every later one; those are reported not run.
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { heads, readRevisions } from '../lib/alembic';
import { check } from '../lib/check';
import { composeArgs } from '../lib/compose';
import { target } from '../lib/config';
import { imageInfo, listImages, serviceStates, tagImage } from '../lib/docker';
import { readEvidence } from '../lib/evidence';
import { headSha } from '../lib/git';
import { waitHealthy } from '../lib/health';
import { acquireLock, type Lock } from '../lib/lock';
import { alembicVersion } from '../lib/postgres';
import { planDeployState, readState, saveState, appendHistory } from '../lib/rollback-state';
import { composeFor, composeStep, up, waitHttp200 } from '../lib/stack';
import { sequence } from '../lib/steps';

const t = target();
const project = await composeFor(t);
const deploySha = await headSha(t.projectDir);
const logs = join(t.reportsDir, 'logs');
const composeLog = join(logs, `compose-${deploySha}.log`);
const seq = sequence('deploy');
let lock: Lock | undefined;

afterAll(() => lock?.release());

describe('Deploy lock', () => {
  const s = seq.step('lock', async () => {
    lock = acquireLock(t.projectDir, `npm run deploy (${deploySha})`);
    return lock;
  });
  test(`Lock ${t.projectDir}/.deploy.lock before step 1`, (ctx) => {
    const c = check(ctx, { id: 'deploy.lock', threshold: 'no other deploy or rollback running', action: 'Wait for the running deploy or rollback to finish' });
    const l = s.get(ctx);
    c.measured(l.tookOverFrom ? `took over a stale lock from pid ${l.tookOverFrom.pid} (${l.tookOverFrom.command}, ${l.tookOverFrom.startedAt})` : `held by pid ${l.holder.pid}`);
    expect(l.holder.pid, c.says('lock holder')).toBe(process.pid);
  });
});

describe('Step 1 — Save rollback state', () => {
  const s = seq.step('step 1', async () => {
    const [currentApi, currentMcp, apiCandidates, mcpCandidates] = await Promise.all([
      imageInfo(`${t.apiImage}:latest`),
      imageInfo(`${t.mcpImage}:latest`),
      listImages(t.apiImage),
      listImages(t.mcpImage),
    ]);
    const plan = planDeployState({ deploySha, now: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), currentApi, currentMcp, existing: readState(t.projectDir), apiCandidates, mcpCandidates });
    if (plan.action === 'write') saveState(t.projectDir, plan.state, 'deploy', plan.note);
    else appendHistory(t.projectDir, { event: 'deploy-kept-state', at: new Date().toISOString(), deploySha, note: plan.note });
    return { plan, saved: readState(t.projectDir) };
  });
  test('Step 1 — .rollback_state saved atomically: previous images and the SHA they were built from', (ctx) => {
    const c = check(ctx, { id: 'deploy.1', threshold: 'PREV_API_IMAGE, PREV_MCP_IMAGE, PREV_SHA, DEPLOY_TIME present', action: 'Stop: without a rollback state there is nothing to roll back to' });
    const { plan, saved } = s.get(ctx);
    c.measured({ PREV_SHA: saved?.PREV_SHA, PREV_API_IMAGE: saved?.PREV_API_IMAGE.slice(0, 19), kept: plan.action === 'keep', note: plan.note ?? null });
    expect(saved, c.says('.rollback_state readable after the write')).toBeDefined();
    expect(saved!.PREV_SHA, c.says('PREV_SHA is the replaced build, never the one being deployed')).not.toBe(deploySha);
  });
});

describe('Step 2 — Build Docker images', () => {
  const buildLog = join(logs, `build-${deploySha}.log`);
  const s = seq.step('step 2', async () => {
    const r = await composeStep(project, `Step 2 — compose build --parallel (log: ${buildLog})`, composeArgs.build(project), {
      logFile: buildLog,
      timeoutMs: 20 * 60_000,
      env: { DEPLOY_SHA: deploySha },
    });
    if (r.exitCode === 0) {
      await tagImage(`${t.apiImage}:latest`, t.apiImage, `sha-${deploySha}`);
      await tagImage(`${t.mcpImage}:latest`, t.mcpImage, `sha-${deploySha}`);
    }
    return r;
  });
  test('Step 2 — build exits 0 (the build’s own exit code, not tee’s)', (ctx) => {
    const c = check(ctx, { id: 'deploy.2.build', threshold: 'exit 0', action: `Stop — do not proceed. Read ${buildLog}` });
    const r = s.get(ctx);
    c.measured({ exitCode: r.exitCode ?? null, timedOut: r.timedOut, seconds: Math.round(r.durationMs / 1000), log: buildLog });
    expect(r.exitCode, c.says(`compose build exit code; last output:\n${r.tailText}`)).toBe(0);
  });
  test(`Step 2 — images tagged sha-${deploySha}`, async (ctx) => {
    const c = check(ctx, { id: 'deploy.2.tag', threshold: `buywhere-api:sha-${deploySha} = :latest`, action: 'Stop — tag the images by hand or rebuild' });
    if (s.get(ctx).exitCode !== 0) c.skip('not run: the build failed');
    const [latest, tagged] = await Promise.all([imageInfo(`${t.apiImage}:latest`), imageInfo(`${t.apiImage}:sha-${deploySha}`)]);
    c.measured(tagged?.id.slice(0, 19) ?? 'missing');
    expect(tagged?.id, c.says('sha- tag points at the new :latest')).toBe(latest?.id);
  });
});

describe('Step 3 — Start DB and Redis', () => {
  const services = ['db', 'db_replica', 'pgbouncer', 'redis'];
  const s = seq.step('step 3', async () => {
    await up(project, services, composeLog);
    return waitHealthy(t.composeProject, services, { timeoutMs: 60_000 });
  });
  test('Step 3 — db, db_replica, pgbouncer, redis healthy within 60 s', (ctx) => {
    const c = check(ctx, { id: 'deploy.3', threshold: 'all 4 healthy ≤ 60 s', unit: 's', action: 'Stop — check docker logs of the service named above' });
    const r = s.get(ctx);
    c.measured(Math.round(r.elapsedMs) / 1000, 's');
    expect([...r.value.values()].map((v) => `${v.service}:${v.health}`).sort(), c.says('health of the data services')).toEqual(services.map((x) => `${x}:healthy`).sort());
  });
});

describe('Step 4 — Run database migrations', () => {
  const migrateLog = join(logs, `migrate-${deploySha}.log`);
  const s = seq.step('step 4', async () => {
    const r = await composeStep(project, `Step 4 — compose run --rm migrate (log: ${migrateLog})`, composeArgs.runRm(project, 'migrate'), { logFile: migrateLog, timeoutMs: 20 * 60_000 });
    const head = heads(await readRevisions(join(t.projectDir, 'alembic', 'versions')));
    const after = r.exitCode === 0 ? await alembicVersion(t.databaseUrl) : [];
    const pre = readEvidence(t.reportsDir, 'preflight');
    const before = pre.ok ? ((pre.evidence.checks.find((x) => x.id === 'preflight.1.6')?.measured as { current?: string } | undefined)?.current ?? 'unknown') : 'unknown (no preflight evidence)';
    return { r, head, after, before };
  });
  test('Step 4 — migrate exits 0', (ctx) => {
    const c = check(ctx, { id: 'deploy.4.migrate', threshold: 'exit 0', action: `Stop immediately — do not bring up the API. Read ${migrateLog}` });
    const { r } = s.get(ctx);
    c.measured({ exitCode: r.exitCode ?? null, seconds: Math.round(r.durationMs / 1000) });
    expect(r.exitCode, c.says(`migrate exit code; last output:\n${r.tailText}`)).toBe(0);
  });
  test('Step 4 — alembic_version equals the single head of alembic/versions', (ctx) => {
    const c = check(ctx, { id: 'deploy.4.version', threshold: 'alembic_version = head', action: 'Stop — do not bring up the API' });
    const { head, after, before } = s.get(ctx);
    c.measured({ before, after: after.join(','), head: head.join(',') });
    expect(head, c.says('heads in alembic/versions')).toHaveLength(1);
    expect(after, c.says(`alembic_version after migrate (before: ${before})`)).toEqual(head);
  });
});

describe('Step 5 — Start API', () => {
  const s = seq.step('step 5', async () => {
    await up(project, ['api'], composeLog);
    return waitHttp200(`${t.apiUrl}/health`, { caFile: t.caFile, timeoutMs: 120_000 });
  });
  test('Step 5 — API /health answers HTTP 200 within 120 s', (ctx) => {
    const c = check(ctx, { id: 'deploy.5', threshold: 'HTTP 200 ≤ 120 s', unit: 's', action: 'Stop — docker logs --tail=50 of the api container; consider rollback' });
    const r = s.get(ctx);
    c.measured(Math.round(r.elapsedMs) / 1000, 's');
    expect(r.value, c.says('/health status')).toBe(200);
  });
});

describe('Step 6 — Start MCP and supporting services', () => {
  const s = seq.step('step 6', async () => {
    await up(project, ['mcp', 'scraper-scheduler'], composeLog);
    return waitHttp200(`${t.mcpUrl}/health`, { timeoutMs: 30_000 }).then(
      (r) => ({ healthy: true as const, seconds: r.elapsedMs / 1000, why: '' }),
      (e: Error) => ({ healthy: false as const, seconds: 30, why: e.message }),
    );
  });
  test('Step 6 — mcp and scraper-scheduler started', (ctx) => {
    const c = check(ctx, { id: 'deploy.6.up', threshold: 'compose up exits 0', action: 'Stop — read the compose log' });
    c.measured(s.get(ctx) ? 'started' : 'not started');
  });
  test('Step 6 — MCP /health 200 within 30 s (non-blocking: a warning, the deploy goes on)', (ctx) => {
    const c = check(ctx, { id: 'deploy.6.mcp', threshold: 'HTTP 200 ≤ 30 s', unit: 's', action: 'Non-blocking for launch: log it and tell Bolt', advisory: true });
    const r = s.get(ctx, { blocking: false });
    c.measured(r.healthy ? Math.round(r.seconds * 10) / 10 : r.why, r.healthy ? 's' : undefined);
    expect(r.healthy, c.says(`MCP health: ${r.why}`)).toBe(true);
  });
});

describe('Step 7 — Start monitoring and cron services', () => {
  const s = seq.step('step 7', () => up(project, t.monitoringServices, composeLog));
  test(`Step 7 — ${t.monitoringServices.join(', ')} started`, (ctx) => {
    const c = check(ctx, { id: 'deploy.7', threshold: 'compose up exits 0', action: 'Stop — read the compose log' });
    const r = s.get(ctx);
    c.measured({ exitCode: r.exitCode ?? null });
    expect(r.exitCode, c.says('compose up exit code')).toBe(0);
  });
});

describe('Step 8 — Verify full stack', () => {
  const s = seq.step('step 8', () => waitHealthy(t.composeProject, t.criticalServices, { timeoutMs: 30_000 }).then(() => serviceStates(t.composeProject)));
  test(`Step 8 — ${t.criticalServices.join(', ')} Up (healthy); mcp Up`, (ctx) => {
    const c = check(ctx, { id: 'deploy.8', threshold: 'critical services running and healthy', action: 'HOLD — page Bolt; consider rollback' });
    const states = s.get(ctx);
    c.measured(Object.fromEntries([...states.values()].map((v) => [v.service, v.health === 'none' ? v.state : `${v.state} (${v.health})`])));
    for (const svc of t.criticalServices) {
      const st = states.get(svc);
      expect(st && `${st.state}/${st.health}`, c.says(`${svc} state/health`)).toBe('running/healthy');
    }
    expect(states.get('mcp')?.state, c.says('mcp is up (healthy or not)')).toBe('running');
  });
});
