// Production asks before it changes anything, and a dry run changes nothing on any target: target
// production pointed at the staging stack through overrides. "Nothing" is checked byte for byte: the rollback
// state and its history, the images, the containers, the lock and the previous evidence.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { docker, imageInfo } from '../lib/probes/docker';
import { evidencePath } from '../lib/harness/evidence';
import { historyPath, statePath } from '../lib/operations/rollback-state';
import { runPhase } from '../scripts/phases';
import { commitToProject, phase, productionEnv as production, projectHead, reportsDir, t } from './support/harness';

/** Everything a deploy or rollback could change, as one comparable value. */
async function snapshot(reports: string) {
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : null);
  const images = await (await docker()).listImages({ filters: { reference: [t.apiImage, t.mcpImage] } });
  const containers = await (
    await docker()
  ).listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${t.composeProject}`] },
  });
  return {
    state: read(statePath(t.projectDir)),
    history: read(historyPath(t.projectDir)),
    lock: existsSync(join(t.projectDir, '.deploy.lock')),
    images: images.map((i) => `${i.Id} ${(i.RepoTags ?? []).sort().join(',')}`).sort(),
    containers: containers.map((c) => `${c.Id} ${c.ImageID} ${c.State}`).sort(),
    latest: (await imageInfo(`${t.apiImage}:latest`))?.id,
    deployEvidence: read(evidencePath(reports, 'deploy')),
    rollbackEvidence: read(evidencePath(reports, 'rollback')),
  };
}

let reports: string;
let newer: string;

beforeAll(async () => {
  // A deployed newer build with a previous one to roll back to, and the evidence of that deploy.
  reports = reportsDir();
  newer = await commitToProject({ 'api/build.env': `# build ${Date.now()}\n` }, 'A build for the plan tests');
  const d = await phase('deploy', { reports });
  expect(d.exitCode, d.output).toBe(0);
}, 600_000);

const run = (name: 'deploy' | 'rollback', env: Record<string, string>) =>
  runPhase(name, { env: { RUNBOOK_REPORTS_DIR: reports, ...env }, timeoutMs: 5 * 60_000 });

describe('production asks before it changes anything', () => {
  it('an unconfirmed production deploy prints the plan and the command, and changes nothing', async () => {
    const before = await snapshot(reports);
    const r = await run('deploy', production());
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toMatch(new RegExp(`Plan: deploy[\\s\\S]*now: +build ${newer}[\\s\\S]*after: +build ${newer}`));
    expect(r.output).toContain(`RUNBOOK_CONFIRM=${newer} npm run deploy`);
    expect(await snapshot(reports)).toEqual(before);
  });

  it('a wrong confirmation is refused, naming the right one, and changes nothing', async () => {
    const before = await snapshot(reports);
    const r = await run('deploy', { ...production(), RUNBOOK_CONFIRM: '0000000' });
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toMatch(new RegExp(`"0000000" is not ${newer}`));
    expect(await snapshot(reports)).toEqual(before);
  });

  it('an unconfirmed production rollback names the build it would restore, and changes nothing', async () => {
    const before = await snapshot(reports);
    const r = await run('rollback', production());
    expect(r.exitCode).not.toBe(0);
    const previous = /after: +build (\w+)/.exec(r.output)?.[1];
    expect(previous).toBeDefined();
    expect(previous).not.toBe(newer);
    expect(r.output).toContain(`RUNBOOK_CONFIRM=${previous} npm run rollback`);
    expect(await snapshot(reports)).toEqual(before);
  });

  it('the right confirmation lets a production deploy run', async () => {
    const r = await run('deploy', { ...production(), RUNBOOK_CONFIRM: await projectHead() });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toMatch(/Step 8/);
  }, 600_000);
});

describe('a dry run changes nothing, on any target', () => {
  it.each([
    ['deploy', 'staging'],
    ['rollback', 'staging'],
    ['deploy', 'production'],
    ['rollback', 'production'],
  ] as const)('RUNBOOK_DRY_RUN=1 npm run %s on %s: the plan, exit 0, everything as it was', async (name, target) => {
    const before = await snapshot(reports);
    const r = await run(name, { ...(target === 'production' ? production() : {}), RUNBOOK_DRY_RUN: '1' });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toMatch(new RegExp(`Plan: ${name}[\\s\\S]*now:[\\s\\S]*after:[\\s\\S]*migrations:`));
    expect(r.output).toMatch(/Dry run: nothing was changed/);
    expect(await snapshot(reports)).toEqual(before);
  });
});
