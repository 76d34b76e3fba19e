// Runbook section 2: the deploy, one setup hook per step, then the step's pass criteria. A failing step
// stops every later one; those are reported not run.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { heads, readRevisions } from '../lib/probes/alembic';
import { check } from '../lib/harness/check';
import { target } from '../lib/harness/run';
import { dataServices } from '../lib/harness/data-services';
import { runContext } from '../lib/harness/run';
import { imageInfo, listImages, pushImage, tagImage } from '../lib/probes/docker';
import { buildLogFindings } from '../lib/probes/build-log';
import { Refused } from '../lib/core/errors';
import { acquireLock, readLockHolder } from '../lib/operations/lock';
import { alembicVersion } from '../lib/probes/postgres';
import { orchestratorFor } from '../lib/operations/orchestrators';
import { planDeployState, readState, saveState, appendHistory } from '../lib/operations/rollback-state';
import { composeFor, composeStep, waitHttp200 } from '../lib/operations/stack';
import { EngineRolledBack } from '../lib/operations/swarm-stack';
import { composeArgs } from '../lib/probes/compose';
import { sequence } from '../lib/harness/steps';
import { deadlineMs, titleOf } from '../runbook/catalogue';
import { waitBudgetMs } from '../lib/harness/budget';
import { get, json } from '../lib/probes/http';

const t = target();
const data = dataServices(t);
const project = await composeFor(t);
const orchestrator = orchestratorFor(t);
const run = runContext();
// Resolved by the phase's setup: the checkout's HEAD, the build the plan showed.
// The deployed build: the checkout this deploy builds and puts in place. The history keeps its `deploySha` field.
const deployedBuild = run.checkout ?? 'unknown';
const logs = join(run.reportsDir, 'logs');
const composeLog = join(logs, `compose-${deployedBuild}.log`);
const seq = sequence('deploy');
// How long a service may take to converge on Swarm, where starting it means waiting for it: the API's own budget.
const convergeMs = deadlineMs('deploy.5');
// The build each step starts: the sha- tag step 2 gives it. Compose runs the :latest of the same build.
const ours = (...services: Array<'api' | 'mcp'>) =>
  Object.fromEntries(services.map((s) => [s, `sha-${deployedBuild}`]));

/** Starts services for a step; an update the engine itself rolled back is recorded in the rollback history. */
async function start(services: string[], opts: { tags?: Record<string, string>; timeoutMs: number }) {
  try {
    return await orchestrator.start(services, { ...opts, logFile: composeLog });
  } catch (err) {
    if (err instanceof EngineRolledBack)
      appendHistory(t.projectDir, {
        event: 'engine-rollback',
        at: new Date().toISOString(),
        deploySha: deployedBuild,
        note: err.message,
      });
    throw err;
  }
}
const locked = seq.step('lock', async () => {
  if (!run.checkout)
    throw new Refused(`${t.projectDir} has no readable git HEAD: nothing to deploy`, 'fix the checkout (1.1)');
  return acquireLock(t.projectDir, `npm run deploy (${deployedBuild})`);
});
afterAll(() => locked.settled()?.release());

describe('Deploy lock', () => {
  test(`${titleOf('deploy.lock')} (${t.projectDir}/.deploy.lock)`, (ctx) => {
    const c = check(ctx, 'deploy.lock');
    const l = locked.get(ctx);
    // Judged on what the lock file says now, not on what taking it returned: a lock another run took or wrote
    // over since is not this run's.
    const onDisk = readLockHolder(t.projectDir);
    c.judge({
      holder: onDisk
        ? { pid: onDisk.pid, host: onDisk.host, started_at: onDisk.startedAt, command: onDisk.command }
        : null,
      this_run: { pid: process.pid, host: l.holder.host, started_at: l.holder.startedAt },
      took_over: l.tookOverFrom
        ? `took over a stale lock from pid ${l.tookOverFrom.pid} (${l.tookOverFrom.command}, ${l.tookOverFrom.startedAt})`
        : null,
    });
  });
});

describe('Step 1 — Save rollback state', () => {
  const s = seq.step('step 1', async () => {
    // On Swarm the build that runs is the task's, which :latest need not be: the engine may have rolled back a
    // build whose images the last deploy tagged :latest.
    const runningImage = async (svc: 'api' | 'mcp', repo: string) => {
      if (orchestrator.kind === 'compose') return imageInfo(`${repo}:latest`);
      const id = (await orchestrator.replicas(svc))[0]?.imageId;
      return id ? imageInfo(id) : undefined;
    };
    const [currentApi, currentMcp, apiCandidates, mcpCandidates] = await Promise.all([
      runningImage('api', t.apiImage),
      runningImage('mcp', t.mcpImage),
      listImages(t.apiImage),
      listImages(t.mcpImage),
    ]);
    const plan = planDeployState({
      deployedBuild,
      now: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      currentApi,
      currentMcp,
      existing: readState(t.projectDir),
      apiCandidates,
      mcpCandidates,
    });
    if (plan.action === 'write') saveState(t.projectDir, plan.state, 'deploy', plan.note);
    else
      appendHistory(t.projectDir, {
        event: 'deploy-kept-state',
        at: new Date().toISOString(),
        deploySha: deployedBuild,
        note: plan.note,
      });
    return { plan, saved: readState(t.projectDir) };
  });
  test(titleOf('deploy.1'), (ctx) => {
    const c = check(ctx, 'deploy.1');
    c.vouchesFor(deployedBuild);
    const { plan, saved } = s.get(ctx);
    c.judge({
      saved: !!saved,
      prev_sha: saved?.PREV_SHA ?? null,
      deploy_sha: deployedBuild,
      prev_api_image: saved?.PREV_API_IMAGE.slice(0, 19) ?? null,
      kept: plan.action === 'keep',
      note: plan.note ?? null,
    });
  });
});

describe('Step 2 — Build Docker images', () => {
  const buildLog = join(logs, `build-${deployedBuild}.log`);
  const s = seq.step('step 2', async () => {
    // The log is appended to: this build's lines are the ones after what an earlier build of this SHA wrote.
    const from = existsSync(buildLog) ? statSync(buildLog).size : 0;
    const r = await composeStep(
      project,
      `Step 2 — compose build --parallel (log: ${buildLog})`,
      composeArgs.build(project),
      {
        logFile: buildLog,
        timeoutMs: 20 * 60_000,
        env: { DEPLOY_SHA: deployedBuild },
      },
    );
    const pushed: { api?: string; mcp?: string; problem?: string } = {};
    if (r.exitCode === 0) {
      const tag = `sha-${deployedBuild}`;
      await tagImage(`${t.apiImage}:latest`, t.apiImage, tag);
      await tagImage(`${t.mcpImage}:latest`, t.mcpImage, tag);
      // Through a registry, every node pulls the sha- tag the deploy pushed, and the stack names it by digest.
      const registry = t.registry;
      if (registry) {
        try {
          for (const [service, image] of [
            ['api', t.apiImage],
            ['mcp', t.mcpImage],
          ] as const) {
            await tagImage(`${image}:${tag}`, `${registry}/${image}`, tag);
            pushed[service] = await pushImage(`${registry}/${image}`, tag, 10 * 60_000);
          }
        } catch (err) {
          pushed.problem = (err as Error).message;
        }
      }
    }
    return {
      ...r,
      pushed,
      logText: existsSync(buildLog) ? readFileSync(buildLog).subarray(from).toString('utf8') : '',
    };
  });
  test(titleOf('deploy.2.build'), (ctx) => {
    const c = check(ctx, 'deploy.2.build');
    const r = s.get(ctx);
    c.judge({
      exit_code: r.exitCode ?? null,
      timed_out: r.timedOut,
      seconds: r.durationMs / 1000,
      log: buildLog,
      last_output: r.exitCode === 0 ? null : r.tailText,
    });
  });
  test(titleOf('deploy.2.warnings'), (ctx) => {
    const c = check(ctx, 'deploy.2.warnings');
    const { logText, exitCode } = s.get(ctx, { blocking: false });
    if (exitCode !== 0) c.skip('not run: the build failed (its own check names its log)');
    const findings = buildLogFindings(logText);
    for (const f of findings) console.warn(`Step 2 WARNING: build log: ${f.kind}: ${f.line}`);
    c.judge({ lines_read: logText.split('\n').filter(Boolean).length, findings: findings.slice(0, 20), log: buildLog });
  });
  test(`${titleOf('deploy.2.tag')}: sha-${deployedBuild}`, async (ctx) => {
    const c = check(ctx, 'deploy.2.tag');
    if (s.get(ctx).exitCode !== 0) c.skip('not run: the build failed');
    const [latest, tagged] = await Promise.all([
      imageInfo(`${t.apiImage}:latest`),
      imageInfo(`${t.apiImage}:sha-${deployedBuild}`),
    ]);
    const { pushed } = s.get(ctx);
    c.judge({
      tagged: tagged?.id ?? null,
      latest: latest?.id ?? null,
      ...(t.registry
        ? {
            registry: t.registry,
            api_digest: pushed.api ?? null,
            mcp_digest: pushed.mcp ?? null,
            push_problem: pushed.problem ?? null,
          }
        : {}),
    });
  });
});

describe('Step 3 — Start DB and Redis', () => {
  const services = ['db', 'db_replica', 'pgbouncer', 'redis'];
  const s = seq.step('step 3', async () => {
    const started = performance.now();
    const budget = waitBudgetMs(t, 'deploy.3');
    await start(services, { timeoutMs: budget });
    const r = await orchestrator.healthy(services, budget - (performance.now() - started));
    return { ...r, elapsedMs: performance.now() - started };
  });
  test(titleOf('deploy.3'), (ctx) => {
    const c = check(ctx, 'deploy.3');
    const r = s.get(ctx);
    c.judge({
      seconds: r.elapsedMs / 1000,
      required: services,
      healthy: [...r.value.values()]
        .filter((v) => v.state === 'running' && v.health === 'healthy')
        .map((v) => v.service),
    });
  });
});

describe('Step 4 — Run database migrations', () => {
  const migrateLog = join(logs, `migrate-${deployedBuild}.log`);
  const s = seq.step('step 4', async () => {
    // Where the database stands before the migration, read now: the first deploy has no alembic_version yet.
    const before = await alembicVersion(data.primary).then(
      (v) => v.join(',') || 'none',
      (err: Error) => `unreadable: ${err.message.split('\n')[0]}`,
    );
    const r = await orchestrator.runOnce('migrate', undefined, {
      title: `Step 4 — run migrate once (log: ${migrateLog})`,
      logFile: migrateLog,
      timeoutMs: 20 * 60_000,
    });
    const head = heads(await readRevisions(join(t.projectDir, 'alembic', 'versions')));
    const after = r.exitCode === 0 ? await alembicVersion(data.primary) : [];
    return { r, head, after, before };
  });
  test(titleOf('deploy.4.migrate'), (ctx) => {
    const c = check(ctx, 'deploy.4.migrate');
    const { r } = s.get(ctx);
    c.judge({
      exit_code: r.exitCode ?? null,
      timed_out: r.timedOut,
      seconds: r.durationMs / 1000,
      log: migrateLog,
      last_output: r.exitCode === 0 ? null : r.tailText,
    });
  });
  test(titleOf('deploy.4.version'), (ctx) => {
    const c = check(ctx, 'deploy.4.version');
    const { head, after, before } = s.get(ctx);
    c.judge({ before, after: after.join(','), head: head.join(',') });
  });
});

describe('Step 5 — Start API', () => {
  // The container just started, on its own port: whatever stands in front of the host is asked after, apart.
  const local = `${t.apiLocalUrl}/health`;
  const s = seq.step('step 5', async () => {
    const started = performance.now();
    const budget = waitBudgetMs(t, 'deploy.5');
    await start(['api'], { tags: ours('api'), timeoutMs: budget });
    const r = await waitHttp200(local, {
      caFile: t.caFile,
      timeoutMs: budget - (performance.now() - started),
    });
    return { ...r, elapsedMs: performance.now() - started };
  });
  test(`${titleOf('deploy.5')} (${local})`, (ctx) => {
    const c = check(ctx, 'deploy.5');
    const r = s.get(ctx);
    c.judge({ url: local, http: r.value, seconds: r.elapsedMs / 1000 });
  });
  test(`${titleOf('deploy.5.public')} (${t.apiUrl}/health)`, async (ctx) => {
    const c = check(ctx, 'deploy.5.public');
    s.get(ctx, { blocking: false });
    const url = `${t.apiUrl}/health`;
    const res = await c.probe(() => get(url, { caFile: t.caFile, timeoutMs: 5000 }));
    const body = json(res);
    const build = body.ok ? (body.value as { build?: unknown }).build : undefined;
    if (res.status === 200 && typeof build !== 'string')
      c.couldNotCheck(`${url} answers HTTP 200 but names no build: which build it serves cannot be told`);
    c.judge({
      url: t.apiUrl,
      http: res.status,
      build: typeof build === 'string' ? build : null,
      deploying: deployedBuild,
    });
  });
});

describe('Step 6 — Start MCP and supporting services', () => {
  const s = seq.step('step 6', async () => {
    const started = await start(['mcp', 'scraper-scheduler'], { tags: ours('mcp'), timeoutMs: convergeMs });
    const mcp = await waitHttp200(`${t.mcpUrl}/health`, { timeoutMs: deadlineMs('deploy.6.mcp') }).then(
      (r) => ({ healthy: true, seconds: r.elapsedMs / 1000, why: null }),
      (e: Error) => ({ healthy: false, seconds: null, why: e.message }),
    );
    return { started, mcp };
  });
  test(titleOf('deploy.6.up'), (ctx) => {
    const c = check(ctx, 'deploy.6.up');
    c.judge({ exit_code: s.get(ctx).started.exitCode ?? null });
  });
  test(titleOf('deploy.6.mcp'), (ctx) => {
    const c = check(ctx, 'deploy.6.mcp');
    c.judge(s.get(ctx, { blocking: false }).mcp);
  });
});

describe('Step 7 — Start monitoring and cron services', () => {
  const s = seq.step('step 7', () => start(t.monitoringServices, { timeoutMs: convergeMs }));
  test(`${titleOf('deploy.7')}: ${t.monitoringServices.join(', ')}`, (ctx) => {
    const c = check(ctx, 'deploy.7');
    c.judge({ exit_code: s.get(ctx).exitCode ?? null });
  });
});

describe('Step 8 — Verify full stack', () => {
  const s = seq.step('step 8', async () => {
    await orchestrator.healthy(t.criticalServices, 30_000);
    const [states, inventory] = await Promise.all([orchestrator.services(), orchestrator.inventory()]);
    return { states, inventory };
  });
  test(`${titleOf('deploy.8')}: ${t.criticalServices.join(', ')}`, (ctx) => {
    const c = check(ctx, 'deploy.8');
    const { states, inventory } = s.get(ctx);
    const shown = (svc: string) => {
      const v = states.get(svc);
      return v ? (v.health === 'none' ? v.state : `${v.state} (${v.health})`) : 'no container';
    };
    c.judge({
      critical: Object.fromEntries(t.criticalServices.map((svc) => [svc, shown(svc)])),
      mcp: states.get('mcp')?.state ?? 'no container',
      // Every container or task, and every node, as `docker ps` (or `docker stack ps`) and `docker node ls` show them.
      tasks: inventory.replicas.map(
        (r) => `${r.service}${r.slot === undefined ? '' : `.${r.slot}`} ${r.state} on ${r.node ?? '?'} ${r.image}`,
      ),
      nodes: inventory.nodes.map((n) => `${n.name} ${n.state}, ${n.availability}, ${n.role}`),
    });
  });
});
