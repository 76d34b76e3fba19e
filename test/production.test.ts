// The production target on a host shaped like the runbook's: no data-service URL and no password in Bolt's
// environment (the checks run each service's own client inside its container), the API's local port apart from
// the public address the edge serves, and the whole morning run through to the gate.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/core/exec';
import { repoRoot } from '../lib/harness/config';
import { get } from '../lib/probes/http';
import { runPhase } from '../scripts/phases';
import {
  commitToProject,
  evidenceDir,
  gonogo,
  phase,
  productionEnv,
  projectHead,
  reportsDir,
  t,
  withStopped,
} from './support/harness';

const production = productionEnv();
const dataSettings = ['RUNBOOK_DB_URL', 'RUNBOOK_REPLICA_URL', 'RUNBOOK_PGBOUNCER_ADMIN_URL', 'RUNBOOK_REDIS_URL'];

describe('Bolt’s environment', () => {
  it('holds no data-service URL and no password: only the addresses, the paths and the API key', () => {
    for (const k of dataSettings) expect(production, k).not.toHaveProperty(k);
    for (const [k, v] of Object.entries(production)) {
      expect(k).not.toMatch(/PASSWORD/);
      expect(v, k).not.toMatch(/^(postgres(ql)?|redis):/);
    }
    // The process running the tests does not hand any down either.
    for (const k of dataSettings) expect(process.env[k], k).toBeUndefined();
  });
});

describe('the morning, on the production target', () => {
  const reports = { preflight: '', deploy: '', smoke: '' };
  let deployed = '';

  beforeAll(async () => {
    deployed = await commitToProject({ 'api/build.env': `# production-shaped ${Date.now()}\n` }, 'A production build');
  });

  it('preflight passes, every data check run inside its container', async () => {
    const p = await phase('preflight', { env: production });
    expect(p.exitCode, p.output).toBe(0);
    reports.preflight = p.reports;
    for (const id of [
      'preflight.1.3.primary',
      'preflight.1.3.replica',
      'preflight.1.3.pgbouncer',
      'preflight.1.3.redis',
    ])
      expect(p.check(id).status, id).toBe('pass');
    expect(p.check('preflight.1.6').status).toBe('pass');
  }, 300_000);

  it('a dry run prints the plan, the migrations read over exec', async () => {
    const d = await runPhase('deploy', {
      env: { ...production, RUNBOOK_REPORTS_DIR: reportsDir(), RUNBOOK_DRY_RUN: '1' },
      timeoutMs: 300_000,
    });
    expect(d.exitCode, d.output).toBe(0);
    const output = d.output;
    expect(output).toMatch(new RegExp(`Plan: deploy[\\s\\S]*after: +build ${deployed}[\\s\\S]*migrations:`));
    expect(output).not.toMatch(/could not check/);
  }, 300_000);

  it('the confirmed deploy passes; step 5 waited on the local URL, and the public one serves the new build', async () => {
    const d = await phase('deploy', { env: { ...production, RUNBOOK_CONFIRM: deployed }, timeoutMs: 10 * 60_000 });
    expect(d.exitCode, d.output).toBe(0);
    reports.deploy = d.reports;
    expect(d.check('deploy.5').measured).toMatchObject({ url: `${t.apiLocalUrl}/health`, http: 200 });
    expect(d.check('deploy.5.public')).toMatchObject({ status: 'pass' });
    expect(d.check('deploy.5.public').measured).toMatchObject({ url: t.apiUrl, build: deployed });
  }, 600_000);

  it('smoke and the gate give GO', async () => {
    const s = await phase('smoke', { env: production });
    expect(s.exitCode, s.output).toBe(0);
    reports.smoke = s.reports;
    const dir = evidenceDir([reports.preflight, 'preflight'], [reports.deploy, 'deploy'], [reports.smoke, 'smoke']);
    const g = await gonogo(dir, production);
    expect(g.decision.decision, JSON.stringify(g.decision.conditions)).toBe('GO');
    expect(g.decision.deploySha).toContain(deployed);
  }, 600_000);

  it('npm run status shows the pools and Redis memory, read inside their containers', async () => {
    const r = await run(['npm', 'run', '--silent', 'status'], { cwd: repoRoot, env: production, timeoutMs: 60_000 });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toMatch(/PgBouncer pools\n.*catalog\/buywhere: \d+ of \d+ active/);
    expect(r.output).toMatch(/Redis memory\n.*used [\d.]+ MiB of [\d.]+ MiB/);
    // A count and a state, the busiest first; Postgres's own workers, which have no state, read "(background)".
    expect(r.output).toMatch(/DB connections by state \(primary\)\n\s+\d+ {2}(\w|\(background\))/);
  }, 120_000);
});

describe('the two addresses are two', () => {
  it('with the edge stopped and the API up: step 5 passes on the local port, the public check and smoke fail', async () => {
    const sha = await commitToProject({ 'api/build.env': `# edge down ${Date.now()}\n` }, 'A build behind a dead edge');
    await withStopped('edge', async () => {
      const d = await phase('deploy', { timeoutMs: 10 * 60_000 });
      expect(d.check('deploy.5').status, d.output).toBe('pass');
      expect(d.check('deploy.8').status).toBe('pass');
      expect(d.check('deploy.5.public').status).toBe('error');
      expect(d.check('deploy.5.public').message).toMatch(new RegExp(new URL(t.apiUrl).host));
      const s = await phase('smoke');
      expect(s.exitCode).not.toBe(0);
      expect(s.check('smoke.1').status).not.toBe('pass');
    });
    expect(await projectHead()).toBe(sha);
  }, 600_000);

  it('a public address that still serves the old build (a proxy pointing elsewhere, a cached /health): the advisory fails naming both builds', async () => {
    const stale = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","build":"0000000"}'),
    );
    await new Promise<void>((r) => stale.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(stale.address() as AddressInfo).port}`;
      const d = await phase('deploy', { env: { RUNBOOK_API_URL: url }, timeoutMs: 10 * 60_000 });
      expect(d.check('deploy.5').status, d.output).toBe('pass');
      const pub = d.check('deploy.5.public');
      expect(pub.status).toBe('fail');
      expect(pub.message).toContain(`"${url}" serves build "0000000", not "${await projectHead()}"`);
      expect(d.check('deploy.8').status, 'an advisory stops nothing').toBe('pass');
    } finally {
      stale.close();
    }
  }, 600_000);

  it('with the API never listening and the edge up: step 5 fails within its (staging-shortened) deadline', async () => {
    await commitToProject(
      { 'api/build.env': `# never listens ${Date.now()}\nFAULT_NEVER_LISTENS=1\n` },
      'A build that never listens',
    );
    const cap = 8;
    const d = await phase('deploy', { env: { RUNBOOK_STAGING_WAIT_S: String(cap) }, timeoutMs: 10 * 60_000 });
    expect(d.exitCode).not.toBe(0);
    const step5 = d.check('deploy.5');
    expect(step5.status).not.toBe('pass');
    expect(step5.message).toContain(`${t.apiLocalUrl}/health`);
    // The wait began when step 5 did: its own duration is the deadline and a little for the engine.
    expect((step5.durationMs ?? 0) / 1000).toBeLessThan(cap + 30);
    for (const later of ['deploy.6.up', 'deploy.7', 'deploy.8']) expect(d.check(later).status).toBe('not-run');
    // The edge was up all along, answering for an API that was not.
    expect((await get(`${t.apiUrl}/health`, { caFile: t.caFile, timeoutMs: 5000 })).status).toBe(502);
    // Back to the build before it, by the runbook's rollback, which waits on the same local port.
    const rb = await phase('rollback', { reports: reportsDir(), timeoutMs: 10 * 60_000 });
    expect(rb.exitCode, rb.output).toBe(0);
    expect(rb.check('rollback.4').measured).toMatchObject({ url: `${t.apiLocalUrl}/health`, http: 200 });
    await commitToProject({ 'api/build.env': `# after never listens ${Date.now()}\n` }, 'Back to a build that listens');
  }, 900_000);
});
