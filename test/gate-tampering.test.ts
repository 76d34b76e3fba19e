// Attempts to argue the gate into a GO: healthy evidence, then one thing changed the way a person (or a broken
// host) might, sealed again where a forger holding the key would; each case is a HOLD naming what it caught.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/core/exec';
import { waitUntil } from '../lib/core/wait';
import { get } from '../lib/probes/http';
import { composeOrchestrator } from '../lib/operations/compose-orchestrator';
import { writeEvidence, type Phase, type PhaseEvidence } from '../lib/harness/evidence';
import { copyEvidence } from './support/evidence-copy';
import { newestStagingBackup, placeBackup } from './support/backups';
import {
  commitToProject,
  evidenceDir,
  gonogo,
  healthyEvidence,
  killPhaseAt,
  phase,
  projectHead,
  reportsDir,
  resetFaults,
  setFaults,
  t,
  warmUp,
} from './support/harness';

let healthyDeploy = '';
let healthyPreflight = '';
let healthySmoke = '';
let realDump = '';

beforeAll(async () => {
  realDump = await newestStagingBackup();
  ({ deploy: healthyDeploy, preflight: healthyPreflight, smoke: healthySmoke } = await healthyEvidence());
}, 300_000);

describe('attempts to argue the gate into a GO', () => {
  const healthyDir = () =>
    evidenceDir([healthyDeploy, 'deploy'], [healthyPreflight, 'preflight'], [healthySmoke, 'smoke']);
  const edit = (dir: string, name: Phase, change: (e: PhaseEvidence) => void) => {
    const path = join(dir, 'evidence', `${name}.json`);
    const e = JSON.parse(readFileSync(path, 'utf8')) as PhaseEvidence;
    change(e);
    // Sealed again, as a forger holding the key would: each case tests the rule it names, not the seal.
    writeEvidence(dir, e);
  };
  const record = (e: PhaseEvidence, id: string) => e.checks.find((c) => c.id === id)!;
  const hold = async (dir: string, reason: RegExp, env: Record<string, string> = {}) => {
    const g = await gonogo(dir, env);
    expect(g.decision.decision, g.reasons).toBe('HOLD');
    expect(g.exitCode).not.toBe(0);
    expect(g.reasons).toMatch(reason);
    return g;
  };

  it('the healthy evidence itself is GO (the control for every case below)', async () => {
    const g = await gonogo(healthyDir());
    expect(g.decision.decision, g.reasons).toBe('GO');
  });

  it('preflight fails 1.1, then only 1.4 and 1.5 are rerun: a partial run, HOLD', async () => {
    const dir = healthyDir();
    writeFileSync(join(t.projectDir, 'stray.txt'), 'x');
    try {
      const full = await phase('preflight', { reports: dir });
      expect(full.check('preflight.1.1').status).toBe('fail');
    } finally {
      rmSync(join(t.projectDir, 'stray.txt'));
    }
    const rerun = await phase('preflight', { reports: dir, args: ['1.4', '1.5'] });
    expect(rerun.evidence.checks.map((c) => c.id)).toEqual(['preflight.1.4', 'preflight.1.5', 'preflight.1.5.drill']);
    expect(rerun.evidence.partial?.join(' ')).toMatch(/ran 2 of 6 spec files/);
    await hold(dir, /preflight run was partial.*file filter/);
  });

  it('smoke against another healthy endpoint, the gate without that override: HOLD naming the origin', async () => {
    const other = t.apiUrl.replace('localhost', '127.0.0.1');
    expect(other).not.toBe(t.apiUrl);
    const s = await phase('smoke', { env: { RUNBOOK_API_URL: other } });
    expect(s.exitCode, s.output).toBe(0);
    await hold(
      evidenceDir([healthyDeploy, 'deploy'], [healthyPreflight, 'preflight'], [s.reports, 'smoke']),
      /apiOrigin: measured "https:\/\/127\.0\.0\.1/,
    );
  });

  it('a passing smoke file put back after a later smoke failed: HOLD, though its seal is good', async () => {
    const dir = healthyDir();
    const passing = readFileSync(join(dir, 'evidence', 'smoke.json'));
    await setFaults({ wrongTag: true });
    try {
      const failed = await phase('smoke', { reports: dir });
      expect(failed.check('smoke.6').status).toBe('fail');
    } finally {
      await resetFaults();
    }
    writeFileSync(join(dir, 'evidence', 'smoke.json'), passing);
    await hold(dir, /smoke evidence is not the last run's: .*an earlier file was put back/);
  });

  it('smoke 6 failing once and passing on a retry (--retry): a partial run, HOLD; the same run without retries fails', async () => {
    const dir = healthyDir();
    await setFaults({ redirectFailures: 1 });
    try {
      const s = await phase('smoke', { reports: dir, args: ['--retry=1'] });
      expect(s.check('smoke.6').status, s.output).toBe('pass');
      expect(s.evidence.partial?.join(' ')).toMatch(
        /1 check\(s\) tried more than once \(--retry\): Smoke 6 .*\(2 tries\)/,
      );
    } finally {
      await resetFaults();
    }
    await hold(dir, /the smoke run was partial \(1 check\(s\) tried more than once/);
    await setFaults({ redirectFailures: 1 });
    try {
      const once = await phase('smoke', { reports: dir });
      expect(once.check('smoke.6')).toMatchObject({ status: 'fail', message: expect.stringMatching(/HTTP 503|503/) });
    } finally {
      await resetFaults();
    }
  });

  it('a check recorded twice, pass then fail: HOLD', async () => {
    const dir = healthyDir();
    edit(dir, 'smoke', (e) => e.checks.push({ ...record(e, 'smoke.6'), status: 'fail' }));
    await hold(dir, /smoke.6 is recorded more than once/);
  });

  it('smoke from before the last deploy finished (the same build deployed again after it): HOLD', async () => {
    const dir = healthyDir();
    const smokeStarted = (JSON.parse(readFileSync(join(dir, 'evidence', 'smoke.json'), 'utf8')) as PhaseEvidence)
      .startedAt;
    edit(dir, 'deploy', (e) => (e.finishedAt = new Date(Date.parse(smokeStarted) + 1000).toISOString()));
    await hold(dir, /smoke started .*, before the last deploy finished .*: it measured what ran before it/);
  });

  it('a pass whose measurement breaks its threshold (disk at 97%): HOLD', async () => {
    const dir = healthyDir();
    edit(dir, 'preflight', (e) => ((record(e, 'preflight.1.4').measured as { used_pct: number }).used_pct = 97));
    await hold(dir, /used space .* is 97%, expected < 85%/);
  });

  it('"advisory": true written on a failing blocking check: HOLD', async () => {
    const dir = healthyDir();
    edit(dir, 'smoke', (e) =>
      Object.assign(record(e, 'smoke.6'), { advisory: true, status: 'fail', message: 'edited' }),
    );
    await hold(dir, /smoke.6 failed/);
  });

  it('a null record: HOLD, and all three artefacts still written saying so', async () => {
    const dir = healthyDir();
    let n = 0;
    edit(dir, 'smoke', (e) => (n = (e.checks as unknown[]).push(null)));
    await hold(dir, new RegExp(`smoke record #${n} is malformed`));
    for (const f of ['gonogo.junit.xml', 'gonogo.html', 'gonogo.md'])
      expect(readFileSync(join(dir, f), 'utf8')).toMatch(/HOLD/);
  });

  it('preflight 1.3 while Docker does not answer (DOCKER_HOST wrong): an error, never excused, HOLD', async () => {
    const dir = healthyDir();
    const p = await phase('preflight', { reports: dir, env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(p.check('preflight.1.3.primary')).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/Docker did not answer/),
    });
    await hold(dir, /preflight.1.3.primary error: Docker did not answer/);
  });

  it('the newest backup dated in the future while the real dumps are 30 h old: 1.5 fails, HOLD', async () => {
    const backups = mkdtempSync(join(tmpdir(), 'rb-future-'));
    placeBackup(realDump, backups, 'catalog-real.dump', 30);
    placeBackup(realDump, backups, 'catalog-next.dump', -5);
    const dir = healthyDir();
    const env = { RUNBOOK_BACKUPS_DIR: backups };
    const p = await phase('preflight', { reports: dir, env });
    expect(p.check('preflight.1.5')).toMatchObject({ status: 'fail', message: expect.stringMatching(/in the future/) });
    await hold(dir, /in the future/, env);
  });

  it('a deploy killed during step 4: HOLD, the deploy never finished', async () => {
    const dir = healthyDir();
    await killPhaseAt('deploy', 'deploy step 4 in progress', { reports: dir });
    await hold(dir, /a deploy started at .* and never finished/);
    const d = await phase('deploy');
    expect(d.exitCode, d.output).toBe(0);
  });

  it('a new commit deployed and then rolled back, HEAD left at it: the gate names the build that runs', async () => {
    const before = await projectHead();
    const newer = await commitToProject({ 'api/build.env': `# build ${Date.now()}\n` }, 'A build to roll back');
    const dir = reportsDir();
    const d = await phase('deploy', { reports: dir });
    expect(d.exitCode, d.output).toBe(0);
    const onlyDeploy = evidenceDir([dir, 'deploy']);
    const r = await phase('rollback', { reports: dir });
    expect(r.exitCode, r.output).toBe(0);
    expect(await projectHead()).toBe(newer);
    const p = await phase('preflight', { reports: dir });
    const s = await phase('smoke', { reports: dir });
    expect([p.exitCode, s.exitCode]).toEqual([0, 0]);
    const g = await gonogo(dir);
    expect(g.decision.decision, g.reasons).toBe('GO');
    expect(g.decision.deploySha).toBe(before);
    expect(readFileSync(join(dir, 'gonogo.md'), 'utf8')).toContain(`deploy ${before}`);
    expect(readFileSync(join(dir, 'gonogo.md'), 'utf8')).not.toContain(newer);
    // The same smoke and preflight with only the deploy of the newer build: it is not what runs.
    copyEvidence(dir, onlyDeploy, 'preflight');
    copyEvidence(dir, onlyDeploy, 'smoke');
    await hold(onlyDeploy, new RegExp(`the last deploy .* put build ${newer} in place, but ${before} is running`));
    const back = await phase('deploy');
    expect(back.exitCode, back.output).toBe(0);
  }, 600_000);

  it('an api container of another build starts beside the running one while smoke runs: HOLD, before and after it goes', async () => {
    // Another build, told apart by its revision label alone; in a repository of its own, so that no deploy or
    // rollback plan ever counts it among the builds of the api.
    const other = 'buywhere-test-other-build:latest';
    const otherSha = 'fedcba9876543210fedcba9876543210fedcba98';
    const context = mkdtempSync(join(tmpdir(), 'other-build-'));
    writeFileSync(
      join(context, 'Dockerfile'),
      `FROM ${t.apiImage}:latest\nLABEL org.opencontainers.image.revision=${otherSha}\n`,
    );
    const built = await run(['docker', 'build', '-q', '-t', other, context], { timeoutMs: 120_000 });
    expect(built.exitCode, built.output).toBe(0);
    const second = `buywhere-test-second-api-${process.pid}`;
    // Smoke's /health answers, counted by the API itself: the run measured the build it started on before any.
    const healthAnswers = async () => {
      const m = await get(`${t.apiUrl}/metrics`, { caFile: t.caFile, timeoutMs: 10_000 });
      return Number(/^http_requests_total\{route="\/health",status="200"\} (\d+)$/m.exec(m.text)?.[1] ?? 0);
    };
    const dir = healthyDir();
    // Every search smoke asks is in the cache first: at 800 ms a cold search could take longer than smoke 9's 2 s,
    // and the case is about the build, not about which cache entries expired since the last test.
    await warmUp();
    const before = await healthAnswers();
    // Slower answers keep smoke running for some seconds after its first, within every threshold.
    await setFaults({ responseDelayMs: 800 });
    let smoke: ReturnType<typeof phase> | undefined;
    try {
      smoke = phase('smoke', { reports: dir });
      await waitUntil(
        async () => {
          const n = await healthAnswers();
          return n > before ? { ready: true, value: n } : { ready: false, last: `${n} answers to /health` };
        },
        { what: "smoke's first answer from /health", timeoutMs: 60_000, intervalMs: 100 },
      );
      const started = await run([
        'docker',
        'run',
        '-d',
        '--name',
        second,
        '--network',
        'none',
        '--entrypoint',
        'sleep',
        '--label',
        `com.docker.compose.project=${t.composeProject}`,
        '--label',
        'com.docker.compose.service=api',
        other,
        '600',
      ]);
      expect(started.exitCode, started.output).toBe(0);
      // The service is healthy only if every container of it is: this one has no health to report.
      expect((await composeOrchestrator(t).services(['api'])).get('api')?.health).not.toBe('healthy');
      const s = await smoke;
      expect(s.exitCode, s.output).toBe(0);
      expect(s.evidence.identity?.build).toBe('unknown');
      expect(s.evidence.identity?.buildProblem).toMatch(
        new RegExp(
          `changed during the run: \\w+ when it started, unknown \\(the running api replicas disagree on the build: .*runs ${otherSha.slice(0, 7)}`,
        ),
      );
      // While both run, the gate measures the same itself.
      await hold(dir, new RegExp(`disagree on the build: .*runs ${otherSha.slice(0, 7)}`));
    } finally {
      await smoke?.catch(() => undefined);
      await resetFaults();
      await run(['docker', 'rm', '-f', second]);
      await run(['docker', 'rmi', other]);
      rmSync(context, { recursive: true, force: true });
    }
    // Gone again, one build runs; smoke's evidence still speaks for none.
    await hold(dir, /smoke measured build unknown/);
  }, 300_000);
});
