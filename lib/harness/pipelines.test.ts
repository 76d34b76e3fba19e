// The CI pipelines that run smoke against a remote staging cannot run here; this reads them and checks that
// they run what the README says, with the settings smoke needs, and keep its reports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { phaseSettings, settings } from './config';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => parse(readFileSync(join(root, path), 'utf8')) as Record<string, any>;
// What `npm run smoke` needs from CI: its own settings, the build it vouches for, and a CA when not public.
const smokeEnv = [
  ...(phaseSettings.smoke as string[]).map((key) => settings.find((s) => s.key === key)!.env),
  'RUNBOOK_DEPLOY_SHA',
];

describe('.github/workflows/smoke-staging.yml', () => {
  const wf = read('.github/workflows/smoke-staging.yml');
  const job = wf.jobs.smoke;
  const steps = job.steps as Array<Record<string, any>>;
  const step = (uses: string) => steps.find((s) => String(s.uses ?? '').startsWith(uses));

  it('runs on manual dispatch with the deploy SHA, on the app deploy, and on a schedule', () => {
    expect(wf.on.workflow_dispatch.inputs.deploy_sha.required).toBe(true);
    expect(wf.on.repository_dispatch.types).toEqual(['staging-deployed']);
    expect(wf.on.schedule[0].cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
  });

  it('sets up Node with the npm cache, installs with npm ci and runs npm run smoke, with every setting smoke needs', () => {
    expect(step('actions/setup-node')?.with).toMatchObject({ cache: 'npm' });
    const runs = steps.map((s) => s.run).filter(Boolean);
    expect(runs).toContain('npm ci');
    expect(runs).toContain('npm run smoke');
    for (const env of smokeEnv) expect(job.env[env], env).toMatch(/\$\{\{ .+ \}\}/);
    expect(steps.map((s) => s.run ?? '').join('\n')).toContain('RUNBOOK_CA_FILE=');
  });

  it('publishes the JUnit as a check and uploads reports/, even when smoke fails', () => {
    const junit = step('mikepenz/action-junit-report');
    expect(junit?.with.report_paths).toBe('reports/smoke.junit.xml');
    expect(junit?.if).toMatch(/always\(\)/);
    const upload = step('actions/upload-artifact');
    expect(upload?.with.path).toBe('reports/');
    expect(upload?.if).toMatch(/always\(\)/);
    expect(wf.permissions.checks).toBe('write');
  });
});

describe('.gitlab-ci.yml', () => {
  const job = read('.gitlab-ci.yml')['smoke-staging'];

  it('installs with npm ci and runs npm run smoke, with every setting smoke needs', () => {
    expect(job.script[0]).toMatch(/^npm ci\b/);
    expect(job.script.at(-1)).toBe('npm run smoke');
    for (const env of smokeEnv) expect(job.variables[env], env).toMatch(/^\$[A-Z_]+$/);
  });

  it('keeps reports/ and gives GitLab the JUnit, even when smoke fails', () => {
    expect(job.artifacts.when).toBe('always');
    expect(job.artifacts.paths).toContain('reports/');
    expect(job.artifacts.reports.junit).toBe('reports/smoke.junit.xml');
  });
});
