// Runbook sections 5.2 and 6: the rollback, one setup hook per step, then its verification.
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { path as migrationPath, readRevisions } from '../lib/alembic';
import { check } from '../lib/check';
import { composeArgs } from '../lib/compose';
import { target } from '../lib/config';
import { imageInfo, listImages, serviceStates, tagImage } from '../lib/docker';
import { Refused } from '../lib/errors';
import { writeAtomic } from '../lib/evidence';
import { acquireLock, type Lock } from '../lib/lock';
import { alembicVersion } from '../lib/postgres';
import { activeAlerts, errorRate, errorRateSinceStart, isP1 } from '../lib/prometheus';
import { appendHistory, chooseRollbackTarget, interruptedRollback, readHistory, readState, type RollbackState } from '../lib/rollback-state';
import { composeFor, composeStep, up, waitHttp200 } from '../lib/stack';
import { sequence } from '../lib/steps';
import { stepInProgress } from '../lib/killpoint';
import * as smoke from '../smoke/checks';
import { postToSlack } from '../lib/slack';
import { rollbackPost } from './posts';

const t = target();
const project = await composeFor(t);
const logs = join(t.reportsDir, 'logs');
const composeLog = join(logs, 'rollback-compose.log');
const downgradeTo = process.env.RUNBOOK_DOWNGRADE_TO;
const reason = process.env.RUNBOOK_ROLLBACK_REASON ?? 'not given (set RUNBOOK_ROLLBACK_REASON)';
const startedAt = new Date();
const seq = sequence('rollback');
let lock: Lock | undefined;
let from = 'unknown';
let choice: Extract<ReturnType<typeof chooseRollbackTarget>, { ok: true }>;

afterAll(() => lock?.release());

/** A downgrade is refused before anything is stopped unless every migration it crosses has a real downgrade. */
async function refuseUnsafeDowngrade(to: string) {
  const revisions = await readRevisions(join(t.projectDir, 'alembic', 'versions'));
  const current = await alembicVersion(t.databaseUrl);
  if (current.length !== 1) throw new Refused(`downgrade refused: alembic_version holds ${current.length} rows`, 'resolve the heads by hand with Bolt');
  const between = migrationPath(revisions, current[0]!, to);
  if (!between) throw new Refused(`downgrade refused: ${to} is not an ancestor of ${current[0]}`, 'pick a revision from alembic/versions below the current one');
  const irreversible = between.filter((r) => !r.reversible);
  if (irreversible.length) {
    throw new Refused(
      `downgrade refused before stopping anything: ${irreversible.map((r) => `${r.revision} (${r.file})`).join(', ')} has no real downgrade`,
      'restore from backup with Bolt instead; never downgrade across an irreversible migration',
    );
  }
}

describe('Before step 1 — lock, a rollback target that exists, a safe downgrade when one is asked for', () => {
  const s = seq.step('target', async () => {
    lock = acquireLock(t.projectDir, 'npm run rollback');
    let state: RollbackState | undefined;
    let stateError: string | undefined;
    try {
      state = readState(t.projectDir);
    } catch (err) {
      stateError = (err as Error).message;
    }
    const [apiImages, mcpImages, running, latest] = await Promise.all([listImages(t.apiImage), listImages(t.mcpImage), serviceStates(t.composeProject, ['api']), imageInfo(`${t.apiImage}:latest`)]);
    // What runs is what the api container runs. :latest alone proves nothing: an interrupted rollback may
    // already have re-tagged it to the previous build without starting it.
    const runningApiIds = new Set([...running.values()].filter((r) => r.state === 'running').map((r) => r.imageId));
    from = [...apiImages.find((i) => runningApiIds.has(i.id))?.tags ?? []].find((x) => x.includes(':sha-')) ?? latest?.id.slice(0, 19) ?? 'unknown';
    const existingIds = new Set([...apiImages, ...mcpImages].map((i) => i.id));
    const interrupted = interruptedRollback(readHistory(t.projectDir));
    const chosen = chooseRollbackTarget({ state, stateError, interrupted, existingIds, runningApiIds, apiImages, mcpImages });
    if (!chosen.ok) throw new Refused(`Rollback refused before stopping anything: ${chosen.why}`, chosen.remedy);
    choice = chosen;
    if (interrupted && chosen.api === interrupted.target.api) from = interrupted.target.from;
    if (downgradeTo) await refuseUnsafeDowngrade(downgradeTo);
    appendHistory(t.projectDir, {
      event: 'rollback-started',
      at: startedAt.toISOString(),
      deploySha: choice.sha,
      target: { api: choice.api, mcp: choice.mcp, sha: choice.sha, from },
      note: `rolling back from ${from} to sha-${choice.sha}: ${reason}`,
    });
    const initiated = rollbackPost('initiated', { at: startedAt, reason, from, to: `sha-${choice.sha}` });
    writeAtomic(join(t.reportsDir, 'rollback-initiated.md'), initiated);
    const slack = await postToSlack(process.env.SLACK_WEBHOOK_URL, initiated);
    if (slack) process.stderr.write(`${slack}; post "ROLLBACK INITIATED" to #us-launch-ops by hand\n`);
    return choice;
  });
  test('5.2 Previous images exist and are not the running build (checked before anything is stopped)', (ctx) => {
    const c = check(ctx, { id: 'rollback.target', threshold: 'PREV_API_IMAGE exists, differs from the running image', action: 'Refused: nothing stopped. List candidates with docker images buywhere-api | grep sha' });
    s.get(ctx);
    c.measured({ api: choice.api.slice(0, 19), sha: choice.sha, source: choice.source });
  });
});

describe('Step 1 — Stop API and MCP', () => {
  const s = seq.step('step 1', () => composeStep(project, 'Step 1 — compose stop api mcp scraper-scheduler', composeArgs.stop(project, ['api', 'mcp', 'scraper-scheduler']), { logFile: composeLog }));
  test('Step 1 — api, mcp, scraper-scheduler stopped', (ctx) => {
    const c = check(ctx, { id: 'rollback.1', threshold: 'exit 0', action: 'Stop them by hand: docker compose stop api mcp scraper-scheduler' });
    const r = s.get(ctx);
    c.measured({ exitCode: r.exitCode ?? null });
    expect(r.exitCode, c.says(`compose stop exit code:\n${r.tailText}`)).toBe(0);
  });
});

describe('Steps 2–3 — Load rollback state; restore the previous image tags', () => {
  const s = seq.step('step 3', async () => {
    await tagImage(choice.api, t.apiImage, 'latest');
    await stepInProgress();
    if (choice.mcp) await tagImage(choice.mcp, t.mcpImage, 'latest');
    return imageInfo(`${t.apiImage}:latest`);
  });
  test('Step 3 — the previous image is buywhere-api:latest again (and buywhere-mcp:latest when it exists)', (ctx) => {
    const c = check(ctx, { id: 'rollback.3', threshold: ':latest = previous image', action: 'Re-tag by hand: docker tag <PREV_API_IMAGE> buywhere-api:latest' });
    const latest = s.get(ctx);
    c.measured({ api: latest?.id.slice(0, 19), sha: choice.sha, mcp: choice.mcp ? 'restored' : 'no previous MCP image; left as is' });
    expect(latest?.id, c.says(`${t.apiImage}:latest`)).toBe(choice.api);
  });
});

describe('Step 4 — Restart services with the prior image', () => {
  const s = seq.step('step 4', async () => {
    await up(project, ['api', 'mcp', 'scraper-scheduler'], composeLog);
    return waitHttp200(`${t.apiUrl}/health`, { caFile: t.caFile, timeoutMs: 60_000 });
  });
  test('Step 4 — API /health answers HTTP 200 on the prior image within 60 s', async (ctx) => {
    const c = check(ctx, { id: 'rollback.4', threshold: 'HTTP 200 ≤ 60 s', unit: 's', action: 'Rollback failing: consider step 5 (migration downgrade) with Bolt' });
    const r = s.get(ctx);
    c.measured(Math.round(r.elapsedMs) / 1000, 's');
    const running = await serviceStates(t.composeProject, ['api']);
    expect(running.get('api')?.imageId, c.says('image of the running api container')).toBe(choice.api);
  });
});

describe('Step 5 — Migration downgrade (only when asked, only when reversible)', () => {
  const s = seq.step('step 5', async () => {
    if (!downgradeTo) return { skipped: 'not requested (set RUNBOOK_DOWNGRADE_TO=<revision> to ask for it)' };
    const r = await composeStep(project, `Step 5 — alembic downgrade ${downgradeTo}`, composeArgs.runRm(project, 'migrate', ['alembic', 'downgrade', downgradeTo]), { logFile: join(logs, 'rollback-migrate.log'), timeoutMs: 20 * 60_000 });
    return { skipped: undefined, exitCode: r.exitCode, tailText: r.tailText, after: await alembicVersion(t.databaseUrl) };
  });
  test('Step 5 — alembic downgrade to RUNBOOK_DOWNGRADE_TO, across reversible migrations only', (ctx) => {
    const c = check(ctx, { id: 'rollback.5', threshold: 'exit 0, alembic_version = target', action: 'Restore from backup with Bolt' });
    const r = s.get(ctx);
    if (r.skipped) c.skip(r.skipped);
    c.measured({ after: r.after?.join(',') });
    expect(r.exitCode, c.says(`alembic downgrade exit code:\n${r.tailText}`)).toBe(0);
    expect(r.after, c.says('alembic_version after the downgrade')).toEqual([downgradeTo]);
  });
});

describe('Step 6 — Verify rollback: smoke tests 1–5 and the section 6 checklist', () => {
  const s = seq.step('step 6', async () => true);
  test('6 / Smoke 1 — GET /health → HTTP 200, status ok', (ctx) => (s.get(ctx), smoke.health(ctx, 'rollback.6.smoke1')));
  test('6 / Smoke 2 — GET /health/detailed → all dependencies healthy', (ctx) => (s.get(ctx), smoke.detailedHealth(ctx, 'rollback.6.smoke2')));
  test('6 / Smoke 3 — /v1/products returns products', (ctx) => (s.get(ctx), smoke.products(ctx, 'rollback.6.smoke3')));
  test('6 / Smoke 4 — GET /v1/search?q=laptop → returns results in USD', (ctx) => (s.get(ctx), smoke.searchLaptop(ctx, 'rollback.6.smoke4')));
  test('6 / Smoke 5 — search iphone returns a named product', (ctx) => (s.get(ctx), smoke.searchIphone(ctx, 'rollback.6.smoke5')));
  test('6 — GET /go/B09G9HDHJT → redirects with the buywhere-20 tag', (ctx) => (s.get(ctx), smoke.affiliateRedirect(ctx, 'rollback.6.redirect')));
  test('6 — Error rate < 0.5% since the rollback (the API\'s own counters; Prometheus 5 min when absent)', async (ctx) => {
    const c = check(ctx, { id: 'rollback.6.errors', threshold: '< 0.5%', unit: '%', action: 'Rollback not stable: page Bolt' });
    s.get(ctx);
    const r = await c.probe(() =>
      errorRateSinceStart(t.apiUrl, t.caFile).catch((err: Error) => {
        if (!t.prometheusUrl) throw err;
        return errorRate(t.prometheusUrl, '5m');
      }),
    );
    c.measured(Math.round(r.pct * 100) / 100, '%');
    expect(r.pct, c.says(`5xx share (${r.errors.toFixed(0)} of ${r.total.toFixed(0)} requests)`)).toBeLessThan(0.5);
  });
  test('6 — No new P1/critical alerts since the rollback began (Alertmanager)', async (ctx) => {
    const c = check(ctx, { id: 'rollback.6.alerts', threshold: '0 new firing', action: 'Rollback not stable: page Bolt' });
    s.get(ctx);
    expect(t.alertmanagerUrl, c.says('RUNBOOK_ALERTMANAGER_URL is set')).toBeDefined();
    const p1 = (await c.probe(() => activeAlerts(t.alertmanagerUrl!))).filter(isP1);
    // The runbook asks for no *new* P1s: alerts raised by the bad build may still be resolving.
    const fresh = p1.filter((a) => a.startsAt >= startedAt);
    c.measured({ new: fresh.map((a) => a.name), still_resolving: p1.filter((a) => a.startsAt < startedAt).map((a) => a.name) });
    expect(fresh.map((a) => a.name), c.says('P1/critical alerts that started after the rollback began')).toEqual([]);
  });
});

describe('Step 7 — Communicate', () => {
  const s = seq.step('step 7', async () => {
    const post = rollbackPost('complete', { at: new Date(), reason, from, to: `sha-${choice.sha}` });
    writeAtomic(join(t.reportsDir, 'rollback-complete.md'), post);
    const slack = await postToSlack(process.env.SLACK_WEBHOOK_URL, post);
    if (slack) process.stderr.write(`${slack}; post "rollback complete" to #us-launch-ops by hand\n`);
    appendHistory(t.projectDir, { event: 'rollback', at: new Date().toISOString(), deploySha: choice.sha, note: `rolled back from ${from} to sha-${choice.sha}: ${reason}` });
    return post;
  });
  test('Step 7 — "rollback complete" post written to reports/ and the rollback recorded in history', (ctx) => {
    const c = check(ctx, { id: 'rollback.7', threshold: 'post written, history appended', action: 'Post to #us-launch-ops and DM Rex by hand' });
    c.measured(s.get(ctx).split('\n')[0]);
  });
});
