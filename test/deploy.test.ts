// The deploy on the real Docker engine and staging stack: new builds, redeploys, a broken build, a failing
// migration, the lock and a database that never becomes healthy. SIGKILL at every step is test/kill.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageInfo, serviceStates } from '../lib/probes/docker';
import { acquireLock } from '../lib/operations/lock';
import { queryOnce } from '../lib/probes/postgres';
import { readHistory, readState } from '../lib/operations/rollback-state';
import { compose, composeArgs } from '../lib/probes/compose';
import { composeFor } from '../lib/operations/stack';
import { commitToProject, data, phase, projectHead, resetFaults, t } from './support/harness';

const notRun = (r: Awaited<ReturnType<typeof phase>>, after: string) => {
  const ids = r.evidence.checks.map((c) => c.id);
  return r.evidence.checks.slice(ids.indexOf(after) + 1);
};

async function apiContainer() {
  const s = (await serviceStates(t.composeProject, ['api'])).get('api')!;
  return s;
}

beforeAll(async () => {
  await resetFaults();
  const r = await phase('deploy');
  expect(r.exitCode, r.output).toBe(0);
}, 600_000);

afterAll(async () => {
  const r = await phase('deploy');
  expect(r.exitCode, r.output).toBe(0);
}, 600_000);

describe('deploys of good builds', () => {
  it('a deploy from nothing (no containers, no volumes) comes up, migrates the empty catalog and passes step 8', async () => {
    const p = await composeFor(t);
    const down = await compose(p, composeArgs.down(p, true), { timeoutMs: 180_000 });
    expect(down.exitCode, down.output).toBe(0);
    // What stands in front of the host is no part of the app's stack: it is back before the deploy, as a host's
    // proxy would be, and answers 502 until the API does.
    const edge = await compose(p, composeArgs.up(p, ['edge']), { timeoutMs: 60_000 });
    expect(edge.exitCode, edge.output).toBe(0);
    const r = await phase('deploy', { timeoutMs: 15 * 60_000 });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.check('deploy.4.version').measured).toMatchObject({ after: '0003_click_log' });
    expect(r.check('deploy.8').status).toBe('pass');
    const [n] = await queryOnce<{ n: number }>(
      data.primary,
      'SELECT count(*)::int AS n FROM products WHERE active',
      'count',
    );
    expect(n!.n).toBeGreaterThan(1_000_000);
  }, 900_000);

  it('a second deploy of a new commit records the first deploy as the previous build, tags both, and leaves both in history', async () => {
    const first = await projectHead();
    const firstApi = await imageInfo(`${t.apiImage}:latest`);
    const historyBefore = readHistory(t.projectDir).length;
    const second = await commitToProject({ 'api/build.env': `# build ${Date.now()}\n` }, 'A new build');
    const r = await phase('deploy');
    expect(r.exitCode, r.output).toBe(0);
    const state = readState(t.projectDir)!;
    expect(state).toMatchObject({ PREV_SHA: first, PREV_API_IMAGE: firstApi!.id, DEPLOY_SHA: second });
    expect(await imageInfo(`${t.apiImage}:sha-${first}`)).toBeDefined();
    expect((await imageInfo(`${t.apiImage}:sha-${second}`))?.id).toBe((await imageInfo(`${t.apiImage}:latest`))?.id);
    const history = readHistory(t.projectDir).slice(historyBefore);
    expect(history.map((h) => h.deploySha)).toEqual([second]);
    expect((await apiContainer()).imageId).toBe((await imageInfo(`${t.apiImage}:latest`))!.id);
  });

  it('a redeploy of the same commit keeps a usable previous state', async () => {
    const before = readState(t.projectDir)!;
    const r = await phase('deploy');
    expect(r.exitCode, r.output).toBe(0);
    expect(readState(t.projectDir)).toEqual(before);
    expect(readHistory(t.projectDir).at(-1)).toMatchObject({ event: 'deploy-kept-state' });
    expect(await imageInfo(before.PREV_API_IMAGE)).toBeDefined();
  });
});

describe('step 2 reads its build log', () => {
  it('a build that exits 0 with a missing package and a failed test step in its log: the advisory lists both, the deploy goes on', async () => {
    const good = readFileSync(join(t.projectDir, 'api', 'build.env'), 'utf8');
    await commitToProject(
      {
        'api/build.env':
          'BUILD_LOG_LINE=E: Unable to locate package libfoo-dev\nBUILD_LOG_LINE=npm ERR! Test failed.  See above for more details.\n',
      },
      'A build whose log warns',
    );
    try {
      const r = await phase('deploy');
      const c = r.check('deploy.2.warnings');
      expect(r.check('deploy.2.build').status).toBe('pass');
      expect(c.status).toBe('fail');
      expect(c.advisory).toBe(true);
      expect(c.measured).toMatchObject({
        findings: [
          { kind: 'apt: missing package', line: expect.stringMatching(/E: Unable to locate package libfoo-dev$/) },
          { kind: 'npm: failed test step', line: expect.stringMatching(/npm ERR! Test failed\./) },
        ],
      });
      expect(r.output).toMatch(/Step 2 WARNING: build log: apt: missing package: .*libfoo-dev/);
      // Advisory: every later step ran and passed.
      expect(r.check('deploy.8').status).toBe('pass');
    } finally {
      await commitToProject({ 'api/build.env': good }, 'A build with a clean log');
    }
    // A clean log passes the advisory, with the lines it read.
    const clean = await phase('deploy');
    expect(clean.check('deploy.2.warnings')).toMatchObject({ status: 'pass', measured: { findings: [] } });
  });
});

describe('deploys that must stop', () => {
  it('a broken Dockerfile stops at step 2; later steps are not run and the API keeps serving its image', async () => {
    const before = await apiContainer();
    const dockerfile = readFileSync(join(t.projectDir, 'api', 'Dockerfile'), 'utf8');
    await commitToProject({ 'api/Dockerfile': dockerfile.replace('CMD', 'RUN exit 3\nCMD') }, 'Broken build');
    try {
      const r = await phase('deploy');
      expect(r.exitCode).not.toBe(0);
      expect(r.check('deploy.2.build')).toMatchObject({
        status: 'fail',
        measured: expect.objectContaining({ exit_code: 1 }),
      });
      const later = notRun(r, 'deploy.2.build');
      expect(later.length).toBeGreaterThan(5);
      expect(
        later.every((c) => c.status === 'not-run'),
        JSON.stringify(later.map((c) => [c.id, c.status])),
      ).toBe(true);
      expect(r.junit).toMatch(/<skipped\/>/);
      const after = await apiContainer();
      expect(after.id).toBe(before.id);
      expect(after.imageId).toBe(before.imageId);
    } finally {
      await commitToProject({ 'api/Dockerfile': dockerfile }, 'Fix the build');
    }
  });

  it('a failing migration stops at step 4 and the API is not restarted on the new image', async () => {
    const before = await apiContainer();
    await commitToProject(
      {
        'alembic/versions/0004_broken.py':
          'revision = "0004_broken"\ndown_revision = "0003_click_log"\n\n\ndef upgrade():\n    raise RuntimeError("this migration is broken")\n\n\ndef downgrade():\n    pass\n',
      },
      'Broken migration',
    );
    try {
      const r = await phase('deploy');
      expect(r.exitCode).not.toBe(0);
      expect(r.check('deploy.4.migrate').status).toBe('fail');
      expect(r.check('deploy.4.migrate').message).toMatch(/this migration is broken/);
      expect(r.check('deploy.5').status).toBe('not-run');
      const after = await apiContainer();
      expect(after.id).toBe(before.id);
      expect(after.imageId).toBe(before.imageId);
      const [v] = await queryOnce<{ version_num: string }>(
        data.primary,
        'SELECT version_num FROM alembic_version',
        'version',
      );
      expect(v!.version_num).toBe('0003_click_log');
    } finally {
      await commitToProject({ 'alembic/versions/0004_broken.py': null }, 'Drop the broken migration');
    }
  });

  it('a concurrent deploy is refused at once, naming the holder', async () => {
    const lock = acquireLock(t.projectDir, 'test holding the lock');
    try {
      const r = await phase('deploy');
      expect(r.exitCode).not.toBe(0);
      expect(r.check('deploy.lock')).toMatchObject({
        status: 'error',
        message: expect.stringMatching(new RegExp(`pid ${process.pid} on .* since`)),
      });
      expect(r.check('deploy.1').status).toBe('not-run');
      expect(r.seconds).toBeLessThan(30);
    } finally {
      lock.release();
    }
  });

  it('a database service that never becomes healthy fails step 3 at its deadline (20 s here), naming it with its health log', async () => {
    const composeFile = readFileSync(join(t.projectDir, 'docker-compose.yml'), 'utf8');
    const broken = composeFile.replace(
      /(db_replica:[\s\S]*?test: )\[[^\n]*\]/,
      '$1["CMD-SHELL", "echo replica check forced to fail; exit 1"]',
    );
    expect(broken).not.toBe(composeFile);
    await commitToProject({ 'docker-compose.yml': broken }, 'Replica that never turns healthy');
    try {
      // Staging caps the runbook's 60 s (RUNBOOK_STAGING_WAIT_S): the wait is the same, only shorter.
      const started = Date.now();
      const r = await phase('deploy', { env: { RUNBOOK_STAGING_WAIT_S: '20' } });
      const seconds = (Date.now() - started) / 1000;
      expect(r.exitCode).not.toBe(0);
      const step3 = r.check('deploy.3');
      expect(step3.status).toBe('error');
      expect(step3.message).toMatch(/db_replica: running \((starting|unhealthy)\)/);
      expect(step3.message).toMatch(/replica check forced to fail/);
      expect(r.check('deploy.4.migrate').status).toBe('not-run');
      expect(seconds, 'a deploy that waited out the runbook deadline instead of the cap').toBeLessThan(60);
    } finally {
      await commitToProject({ 'docker-compose.yml': composeFile }, 'Restore the replica health check');
    }
  }, 600_000);
});
