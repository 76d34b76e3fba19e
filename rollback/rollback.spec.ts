// Runbook sections 5.2 and 6: the rollback, one setup hook per step, then its verification. Each step
// hands what it found to the steps after it through the sequence.
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { writeAtomic } from '../lib/core/atomic';
import { Refused } from '../lib/core/errors';
import { scrub } from '../lib/core/secret';
import { stepInProgress } from '../lib/core/step-signal';
import { check } from '../lib/harness/check';
import { runOptions } from '../lib/harness/config';
import { target } from '../lib/harness/run';
import { waitBudgetMs } from '../lib/harness/budget';
import { dataServices } from '../lib/harness/data-services';
import { planRollback } from '../lib/harness/planning';
import { runContext } from '../lib/harness/run';
import { sequence } from '../lib/harness/steps';
import { replicaOrigins } from '../lib/harness/replicas';
import { acquireLock } from '../lib/operations/lock';
import { appendHistory, readHistory } from '../lib/operations/rollback-state';
import { postToSlack } from '../lib/operations/slack';
import { waitHttp200 } from '../lib/operations/stack';
import { imageInfo, tagImage } from '../lib/probes/docker';
import { orchestratorFor } from '../lib/operations/orchestrators';
import { progress } from '../lib/core/progress';
import { alembicVersion } from '../lib/probes/postgres';
import {
  alertmanagerAlerts,
  conditionsSince,
  errorRate,
  errorRateSinceStart,
  errorRateOfReplicas,
  newSince,
  p1Firing,
  ruleAlerts,
} from '../lib/probes/prometheus';
import { titleOf } from '../runbook/catalogue';
import * as smoke from '../smoke/checks';
import { rollbackPost } from './posts';

const t = target();
const data = dataServices(t);
const run = runContext();
const orchestrator = orchestratorFor(t);
const logs = join(run.reportsDir, 'logs');
const composeLog = join(logs, 'rollback-compose.log');
const { downgradeTo, slackWebhook } = runOptions();
const reason = runOptions().rollbackReason ?? 'not given (set RUNBOOK_ROLLBACK_REASON)';
const startedAt = new Date(run.startedAt);
const seq = sequence('rollback');

// Before step 1 is the harness's own: the lock, and a target that exists and is the one the plan showed.
const planned = seq.step('target', async () => {
  const lock = acquireLock(t.projectDir, 'npm run rollback');
  try {
    const { choice } = await planRollback(t, downgradeTo);
    // Under the lock, the target must be the one the plan showed (and production confirmed) before the run.
    if (run.plan && run.plan.after.sha !== choice.sha) {
      throw new Refused(
        `the plan shown before the run rolls back to ${run.plan.after.sha}; under the lock the target is now ${choice.sha}`,
        'something changed the images or the rollback state meanwhile; read `npm run status` and plan again',
      );
    }
    appendHistory(t.projectDir, {
      event: 'rollback-started',
      at: startedAt.toISOString(),
      deploySha: choice.sha,
      target: { api: choice.api, mcp: choice.mcp, sha: choice.sha, from: choice.from },
      note: `rolling back from ${choice.from} to sha-${choice.sha}: ${reason}`,
    });
    const initiated = rollbackPost('initiated', {
      at: startedAt,
      reason,
      from: choice.from,
      to: `sha-${choice.sha}`,
      digest: choice.digest,
    });
    writeAtomic(join(run.reportsDir, 'rollback-initiated.md'), scrub(initiated, t.secretValues));
    const slack = await postToSlack(slackWebhook, initiated, t.secretValues);
    if (slack) process.stderr.write(`${slack}; post "ROLLBACK INITIATED" to #us-launch-ops by hand\n`);
    return { lock, choice };
  } catch (err) {
    lock.release();
    throw err;
  }
});
afterAll(() => planned.settled()?.lock.release());
const choice = () => planned.value().choice;

describe('Before step 1 — lock, a rollback target that exists, a safe downgrade when one is asked for', () => {
  test(titleOf('rollback.target'), (ctx) => {
    const c = check(ctx, 'rollback.target');
    const { choice } = planned.get(ctx);
    c.vouchesFor(choice.sha);
    c.judge({ api: choice.api, sha: choice.sha, source: choice.source, from: choice.from });
  });
});

describe('Step 1 — Stop API and MCP', () => {
  const services = ['api', 'mcp', 'scraper-scheduler'];
  const s = seq.step('step 1', async () => {
    const show = progress(`Step 1 — stop ${services.join(' ')}`);
    const stopping = orchestrator.stop(services).then(
      (r) => ({ r, err: undefined }),
      (err: Error) => ({ r: undefined, err }),
    );
    await stepInProgress();
    const { r, err } = await stopping;
    if (!r) {
      show.done('FAILED');
      throw err;
    }
    show.done(r.stillRunning.length ? `still running: ${r.stillRunning.join(', ')}` : 'done');
    return r;
  });
  test(`${titleOf('rollback.1')}: ${services.join(', ')}`, (ctx) => {
    const c = check(ctx, 'rollback.1');
    const r = s.get(ctx);
    c.judge({ still_running: r.stillRunning, stopped: r.stopped, no_container: r.absent });
  });
});

describe('Step 2 — Load rollback state', () => {
  const s = seq.step('step 2', async () => {
    const { api, mcp, source, digest } = choice();
    const [apiImage, mcpImage] = await Promise.all([imageInfo(api), mcp ? imageInfo(mcp) : undefined]);
    process.stdout.write(
      `Rolling back to image digest: ${api}${digest ? `, ${digest} in the registry` : ''} (from ${source})\n`,
    );
    return {
      api,
      ...(digest ? { digest } : {}),
      mcp: mcp ?? null,
      source,
      api_present: !!apiImage,
      mcp_present: mcp ? !!mcpImage : null,
    };
  });
  test(titleOf('rollback.2'), (ctx) => {
    const c = check(ctx, 'rollback.2');
    c.judge(s.get(ctx));
  });
});

describe('Step 3 — Restore previous image tag', () => {
  const s = seq.step('step 3', async () => {
    const { api, mcp } = choice();
    await tagImage(api, t.apiImage, 'latest');
    await stepInProgress();
    if (mcp) await tagImage(mcp, t.mcpImage, 'latest');
    return imageInfo(`${t.apiImage}:latest`);
  });
  test(titleOf('rollback.3'), (ctx) => {
    const c = check(ctx, 'rollback.3');
    const latest = s.get(ctx);
    const { api, sha, mcp } = choice();
    c.judge({
      latest: latest?.id ?? null,
      target: api,
      sha,
      mcp: mcp ? 'restored' : 'no previous MCP image; left as is',
    });
  });
});

describe('Step 4 — Restart services with the prior image', () => {
  const s = seq.step('step 4', async () => {
    const { mcp, sha } = choice();
    const started = performance.now();
    const left = () => waitBudgetMs(t, 'rollback.4') - (performance.now() - started);
    // Compose starts the :latest step 3 restored; Swarm starts the previous build's sha- tag, and waits until
    // every task runs the image the tag names. The API first, alone: it is what users wait for. MCP and the
    // scraper follow once it answers.
    await orchestrator.start(['api'], { logFile: composeLog, tags: { api: `sha-${sha}` }, timeoutMs: left() });
    const r = await waitHttp200(`${t.apiLocalUrl}/health`, { caFile: t.caFile, timeoutMs: left() });
    const apiHealthyMs = performance.now() - started;
    await orchestrator.start(['mcp', 'scraper-scheduler'], {
      logFile: composeLog,
      tags: mcp ? { mcp: `sha-${sha}` } : {},
      timeoutMs: left(),
    });
    return { ...r, apiHealthyMs };
  });
  test(`${titleOf('rollback.4')} (${t.apiLocalUrl}/health)`, async (ctx) => {
    const c = check(ctx, 'rollback.4');
    const r = s.get(ctx);
    // Every replica, each by the image id this engine holds for it: a task on another node is known by the
    // reference its spec pins. Replicas that disagree name no one image, and never the target.
    const ids = await c.probe(async () => {
      const replicas = await orchestrator.replicas('api');
      return [...new Set(await Promise.all(replicas.map(async (x) => (await imageInfo(x.imageId))?.id ?? x.imageId)))];
    });
    c.judge({
      url: `${t.apiLocalUrl}/health`,
      http: r.value,
      seconds: r.apiHealthyMs / 1000,
      running_image: ids.length ? ids.join(', ') : null,
      target: choice().api,
    });
  });
});

describe('Step 5 — Migration downgrade (only when asked, only when reversible)', () => {
  const s = seq.step('step 5', async () => {
    if (!downgradeTo) return { skipped: 'not requested (set RUNBOOK_DOWNGRADE_TO=<revision> to ask for it)' };
    const r = await orchestrator.runOnce('migrate', ['alembic', 'downgrade', downgradeTo], {
      title: `Step 5 — alembic downgrade ${downgradeTo}`,
      logFile: join(logs, 'rollback-migrate.log'),
      timeoutMs: 20 * 60_000,
    });
    return {
      skipped: undefined,
      exitCode: r.exitCode,
      tailText: r.tailText,
      after: await alembicVersion(data.primary),
    };
  });
  test(titleOf('rollback.5'), (ctx) => {
    const c = check(ctx, 'rollback.5');
    const r = s.get(ctx);
    if (r.skipped) c.skip(r.skipped);
    c.judge({
      exit_code: r.exitCode ?? null,
      after: r.after?.join(',') ?? null,
      target: downgradeTo ?? null,
      last_output: r.exitCode === 0 ? null : r.tailText,
    });
  });
});

describe('Step 6 — Verify rollback: smoke tests 1–5 and the section 6 checklist', () => {
  const s = seq.checks('step 6');
  test(titleOf('rollback.6.smoke1'), (ctx) => (s.enter(ctx), smoke.health(ctx, 'rollback.6.smoke1')));
  test(titleOf('rollback.6.smoke2'), (ctx) => (s.enter(ctx), smoke.detailedHealth(ctx, 'rollback.6.smoke2')));
  test(titleOf('rollback.6.smoke3'), (ctx) => (s.enter(ctx), smoke.products(ctx, 'rollback.6.smoke3')));
  test(titleOf('rollback.6.smoke4'), (ctx) => (s.enter(ctx), smoke.searchLaptop(ctx, 'rollback.6.smoke4')));
  test(titleOf('rollback.6.smoke5'), (ctx) => (s.enter(ctx), smoke.searchIphone(ctx, 'rollback.6.smoke5')));
  test(titleOf('rollback.6.redirect'), (ctx) => (s.enter(ctx), smoke.affiliateRedirect(ctx, 'rollback.6.redirect')));
  test(`${titleOf('rollback.6.errors')} (the API's own counters; Prometheus 5 min when absent)`, async (ctx) => {
    const c = check(ctx, 'rollback.6.errors');
    s.enter(ctx);
    // Several replicas (a swarm's, each on its own port behind the edge): every one's counters, summed. One
    // replica: its own, through the public address as the runbook asks.
    const replicas = await c.probe(() => orchestrator.replicas('api'));
    const r = await c.probe(() =>
      replicas.length > 1
        ? errorRateOfReplicas(replicaOrigins(t.apiLocalUrl, replicas))
        : errorRateSinceStart(t.apiUrl, t.caFile).catch((err: Error) => {
            if (!t.prometheusUrl) throw err;
            return errorRate(t.prometheusUrl, '5m');
          }),
    );
    c.judge({ error_pct: r.pct, errors: r.errors, total: r.total, replicas: Math.max(1, replicas.length) });
  });
  test(`${titleOf('rollback.6.alerts')} (Alertmanager)`, async (ctx) => {
    const c = check(ctx, 'rollback.6.alerts');
    s.enter(ctx);
    if (!t.alertmanagerUrl) c.couldNotCheck('RUNBOOK_ALERTMANAGER_URL is not set: no way to see P1 alerts');
    const held = await c.probe(() => alertmanagerAlerts(t.alertmanagerUrl!));
    // What Prometheus fires counts too where Alertmanager does not hold it: a restarted Alertmanager is empty.
    const fired = t.prometheusUrl ? await c.probe(() => ruleAlerts(t.prometheusUrl!)) : undefined;
    const p1 = p1Firing(held, fired);
    // The runbook asks for no *new* P1s: alerts raised by the bad build may still be resolving, or only now
    // firing because their condition held before the rollback.
    const { fresh, resolving } = newSince(p1.alerts, startedAt, fired && conditionsSince(fired));
    c.judge({
      new: fresh.map((a) => a.name),
      still_resolving: resolving.map((a) => a.name),
      ...(p1.notHeld.length ? { firing_not_in_alertmanager: p1.notHeld } : {}),
    });
  });
});

describe('Step 7 — Communicate', () => {
  const s = seq.step('step 7', async () => {
    const { from, sha, digest } = choice();
    const post = rollbackPost('complete', { at: new Date(), reason, from, to: `sha-${sha}`, digest });
    writeAtomic(join(run.reportsDir, 'rollback-complete.md'), scrub(post, t.secretValues));
    const slack = await postToSlack(slackWebhook, post, t.secretValues);
    if (slack) process.stderr.write(`${slack}; post "rollback complete" to #us-launch-ops by hand\n`);
    appendHistory(t.projectDir, {
      event: 'rollback',
      at: new Date().toISOString(),
      deploySha: sha,
      note: `rolled back from ${from} to sha-${sha}: ${reason}`,
    });
    return { post, recorded: readHistory(t.projectDir).at(-1)?.event === 'rollback' };
  });
  test(titleOf('rollback.7'), (ctx) => {
    const c = check(ctx, 'rollback.7');
    const r = s.get(ctx);
    c.judge({ recorded: r.recorded, post: r.post.split('\n')[0] });
  });
});
