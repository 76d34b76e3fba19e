// Rollback end to end: a good build, a bad build that the gate holds, a refused downgrade, then the
// rollback back to the good images with its verification.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageInfo, serviceStates } from '../lib/probes/docker';
import { get } from '../lib/probes/http';
import { queryOnce } from '../lib/probes/postgres';
import { readHistory, readState } from '../lib/operations/rollback-state';
import { commitToProject, data, phase, reportsDir, resetFaults, t } from './support/harness';

const irreversible = `"""Add price alerts; there is no way back."""
from alembic import op

revision = "0004_price_alerts"
down_revision = "0003_click_log"


def upgrade():
    op.execute("CREATE TABLE price_alerts (id bigserial PRIMARY KEY, asin varchar(10) NOT NULL)")


def downgrade():
    raise NotImplementedError("price_alerts cannot be dropped safely")
`;

const apiImageRunning = async () => (await serviceStates(t.composeProject, ['api'])).get('api')!;
const redirect = async () => (await get(`${t.apiUrl}/go/B09G9HDHJT`, { caFile: t.caFile })).headers.location;

let good: { sha: string; image: string };
let badSha: string;

beforeAll(async () => {
  await resetFaults();
  const d = await phase('deploy');
  expect(d.exitCode, d.output).toBe(0);
  good = { sha: d.evidence.deploySha, image: (await imageInfo(`${t.apiImage}:latest`))!.id };
}, 600_000);

afterAll(async () => {
  await queryOnce(
    data.primary,
    "DROP TABLE IF EXISTS price_alerts; UPDATE alembic_version SET version_num = '0003_click_log'",
    'cleanup',
  );
  await commitToProject(
    {
      'api/build.env': '# Fault switches baked into this build (see staging/README.md). Empty for a good build.\n',
      'alembic/versions/0004_price_alerts.py': null,
    },
    'Revert the bad build',
  );
  const d = await phase('deploy');
  expect(d.exitCode, d.output).toBe(0);
}, 600_000);

describe('deploy good → deploy bad → HOLD → rollback', () => {
  it('a bad build (untagged redirect baked in) deploys, smoke fails smoke 6 and the gate holds: page Sol/Link', async () => {
    badSha = await commitToProject(
      { 'api/build.env': 'FAULT_UNTAGGED_REDIRECT=1\n', 'alembic/versions/0004_price_alerts.py': irreversible },
      'Bad build',
    );
    const d = await phase('deploy');
    expect(d.exitCode, d.output).toBe(0);
    expect(readState(t.projectDir)).toMatchObject({
      PREV_SHA: good.sha,
      PREV_API_IMAGE: good.image,
      DEPLOY_SHA: badSha,
    });
    expect(await redirect()).toBe('https://www.amazon.com/dp/B09G9HDHJT');

    const reports = reportsDir();
    // The bad build's migration made a table no backup holds yet: asked to, 1.5 takes a new backup and passes.
    const p = await phase('preflight', { reports, env: { RUNBOOK_RUN_BACKUP: '1' } });
    expect(p.exitCode, p.output).toBe(0);
    expect(p.check('preflight.1.5').measured).toMatchObject({ tables_missing: [] });
    const s = await phase('smoke', { reports });
    expect(s.check('smoke.6').status).toBe('fail');
    const g = await phase('gonogo', { reports });
    expect(g.exitCode).not.toBe(0);
    expect(g.junit).toContain('HOLD — page Sol/Link');
    expect(g.junit).toContain('name="decision" value="HOLD"');
  }, 300_000);

  it('a downgrade across the irreversible migration is refused before anything is stopped', async () => {
    const before = await apiImageRunning();
    const r = await phase('rollback', { env: { RUNBOOK_DOWNGRADE_TO: '0003_click_log' } });
    expect(r.exitCode).not.toBe(0);
    expect(r.check('rollback.target')).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/0004_price_alerts .* has no real downgrade/),
    });
    expect(r.check('rollback.1').status).toBe('not-run');
    const after = await apiImageRunning();
    expect([after.id, after.state]).toEqual([before.id, 'running']);
  }, 300_000);

  it('a rollback with no usable previous image refuses before stopping anything, and the API keeps serving', async () => {
    const before = await apiImageRunning();
    const r = await phase('rollback', {
      env: { RUNBOOK_API_IMAGE: 'buywhere-api-nothing-here', RUNBOOK_MCP_IMAGE: 'buywhere-mcp-nothing-here' },
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.check('rollback.target').message).toMatch(/nothing to roll back to[\s\S]*docker images buywhere-api/);
    const after = await apiImageRunning();
    expect([after.id, after.state]).toEqual([before.id, 'running']);
    expect((await get(`${t.apiUrl}/health`, { caFile: t.caFile })).status).toBe(200);
  }, 300_000);

  it('npm run rollback puts the good images back on :latest and running, verifies, and records it', async () => {
    const reports = reportsDir();
    const r = await phase('rollback', { reports, env: { RUNBOOK_ROLLBACK_REASON: 'affiliate tag missing on /go/' } });
    expect(r.exitCode, r.output).toBe(0);
    expect((await imageInfo(`${t.apiImage}:latest`))!.id).toBe(good.image);
    expect((await apiImageRunning()).imageId).toBe(good.image);
    expect(await redirect()).toBe('https://www.amazon.com/dp/B09G9HDHJT?tag=buywhere-20');
    for (const id of [
      'rollback.6.smoke1',
      'rollback.6.smoke2',
      'rollback.6.smoke4',
      'rollback.6.redirect',
      'rollback.6.errors',
      'rollback.6.alerts',
    ]) {
      expect(r.check(id).status, id).toBe('pass');
    }
    expect(r.check('rollback.5').status).toBe('skipped');
    const history = readHistory(t.projectDir);
    const last = history.at(-1)!;
    expect([last.event, last.deploySha]).toEqual(['rollback', good.sha]);
    const deploys = history.filter((h) => h.event === 'deploy').map((h) => h.deploySha);
    expect(deploys.slice(-1)).toEqual([badSha]);
    expect(history.some((h) => h.event.startsWith('deploy') && h.deploySha === good.sha)).toBe(true);
    const state = readState(t.projectDir)!;
    expect(await imageInfo(state.PREV_API_IMAGE)).toBeDefined();
    expect(readFileSync(join(reports, 'rollback-initiated.md'), 'utf8')).toMatch(
      /^⚠️ ROLLBACK INITIATED — \d\d:\d\d EST\nReason: affiliate tag missing on \/go\/\nLead: Bolt\nETA: /,
    );
    expect(readFileSync(join(reports, 'rollback-complete.md'), 'utf8')).toMatch(/ROLLBACK COMPLETE/);
  }, 300_000);
});
