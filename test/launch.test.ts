// npm run launch: stops at the first failing phase and still ends with a HOLD artefact that says why.
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { launch, launchExitCode } from '../scripts/launch';
import { run } from '../lib/core/exec';
import { repoRoot } from '../lib/harness/config';
import { readEvidence, readLaunchStop, writeLaunchStop } from '../lib/harness/evidence';
import { evidenceDir, gonogo, phase, reportsDir, warmUp } from './support/harness';

describe('npm run launch', () => {
  it('stops at a failing preflight, never deploys, and writes a HOLD artefact with the reason', async () => {
    const backups = mkdtempSync(join(tmpdir(), 'rb-old-'));
    writeFileSync(join(backups, 'catalog-old.dump'), 'PGDMP');
    const old = new Date(Date.now() - 30 * 3_600_000);
    utimesSync(join(backups, 'catalog-old.dump'), old, old);
    const reports = reportsDir();
    const r = await launch({ echo: false, env: { RUNBOOK_REPORTS_DIR: reports, RUNBOOK_BACKUPS_DIR: backups } });
    expect(r).toMatchObject({ decision: 'HOLD', stopped: expect.stringMatching(/^preflight failed/) });
    // A check that failed is a HOLD (1), not a command that could not start (2).
    expect(launchExitCode(r)).toBe(1);
    expect(existsSync(join(reports, 'evidence', 'deploy.json'))).toBe(false);
    expect(existsSync(join(reports, 'evidence', 'smoke.json'))).toBe(false);
    const junit = readFileSync(join(reports, 'gonogo.junit.xml'), 'utf8');
    expect(junit).toContain('name="decision" value="HOLD"');
    expect(readFileSync(join(reports, 'gonogo.html'), 'utf8')).toMatch(/launch stopped: preflight failed/);
    expect(readFileSync(join(reports, 'gonogo.md'), 'utf8')).toMatch(/^⛔ HOLD[\s\S]*launch stopped: preflight failed/);
  }, 300_000);
});

describe('npm run launch -- --no-deploy: preflight → smoke → gonogo in one Vitest process', () => {
  // The build that runs was deployed by a deploy whose evidence the gate needs: one deploy, then launches.
  let deployed: string;
  const oldBackups = () => {
    const backups = mkdtempSync(join(tmpdir(), 'rb-old-'));
    writeFileSync(join(backups, 'catalog-old.dump'), 'PGDMP');
    const old = new Date(Date.now() - 30 * 3_600_000);
    utimesSync(join(backups, 'catalog-old.dump'), old, old);
    return backups;
  };

  beforeAll(async () => {
    deployed = (await phase('deploy')).reports;
    await warmUp();
  }, 600_000);

  it('on a healthy stack: GO, each phase written as it ended, in runbook order, by one process', async () => {
    const reports = evidenceDir([deployed, 'deploy']);
    let output = '';
    const r = await launch({
      echo: false,
      deploy: false,
      env: { RUNBOOK_REPORTS_DIR: reports },
      // Vitest colours its output whatever FORCE_COLOR says: read it without the escapes.
      onLine: (l) => (output += `${l.replace(/\x1b\[[0-9;]*m/g, '')}\n`),
    });
    expect(r, output.slice(-3000)).toMatchObject({ decision: 'GO', stopped: undefined });
    expect(launchExitCode(r)).toBe(0);
    expect(output.match(/ RUN {2}v\d/g)).toHaveLength(1);
    const read = (p: 'preflight' | 'smoke' | 'deploy') => {
      const e = readEvidence(reports, p);
      if (!e.ok) throw new Error(e.problem);
      return e.evidence;
    };
    const [preflight, smoke] = [read('preflight'), read('smoke')];
    expect(preflight.outcome).toBe('passed');
    expect(smoke.checks.every((c) => c.status === 'pass')).toBe(true);
    // Preflight's evidence was written when preflight ended, before smoke's first check ran.
    expect(output.indexOf('preflight — target staging')).toBeGreaterThan(-1);
    expect(output.indexOf('preflight — target staging')).toBeLessThan(output.indexOf('Smoke 1 — '));
    expect(Date.parse(preflight.finishedAt)).toBeLessThan(Date.parse(smoke.finishedAt));
    // The deploy evidence the gate needed was kept.
    expect(read('deploy').outcome).toBe('passed');
    expect(readFileSync(join(reports, 'gonogo.junit.xml'), 'utf8')).toContain('name="decision" value="GO"');
  }, 600_000);

  it('a failing preflight: smoke recorded as not run with the reason, never passed; the gate holds naming it', async () => {
    const reports = evidenceDir([deployed, 'deploy']);
    const r = await launch({
      echo: false,
      deploy: false,
      env: { RUNBOOK_REPORTS_DIR: reports, RUNBOOK_BACKUPS_DIR: oldBackups() },
    });
    expect(r.decision).toBe('HOLD');
    expect(launchExitCode(r)).toBe(1);
    expect(r.stopped).toMatch(/^preflight failed \(1.5 — /);
    const smoke = readEvidence(reports, 'smoke');
    if (!smoke.ok) throw new Error(smoke.problem);
    expect(smoke.evidence.checks).toHaveLength(11);
    for (const c of smoke.evidence.checks) {
      expect(c.status).toBe('not-run');
      expect(c.message).toMatch(/^not run: preflight failed \(1.5 — /);
    }
    expect(readFileSync(join(reports, 'smoke.junit.xml'), 'utf8')).toMatch(
      /<skipped\/>\s*<system-out><!\[CDATA\[[^\]]*reason: not run: preflight failed/,
    );
    expect(readFileSync(join(reports, 'gonogo.junit.xml'), 'utf8')).toContain('name="decision" value="HOLD"');
    expect(readFileSync(join(reports, 'gonogo.md'), 'utf8')).toMatch(/launch stopped: preflight failed/);
  }, 600_000);

  it('as typed: Vitest alone, GO and exit 0; the stop note of an older launch does not outlive it', async () => {
    const reports = evidenceDir([deployed, 'deploy']);
    writeLaunchStop(reports, 'preflight failed (1.5 — A backup newer than 24 h exists); later phases not run');
    const r = await run(['npm', 'run', '--silent', 'launch', '--', '--no-deploy'], {
      cwd: repoRoot,
      env: { RUNBOOK_REPORTS_DIR: reports, FORCE_COLOR: '0', npm_config_update_notifier: 'false' },
      timeoutMs: 300_000,
    });
    // Vitest colours its output whatever FORCE_COLOR says: read it without the escapes.
    const output = r.output.replace(/\x1b\[[0-9;]*m/g, '');
    expect(r.exitCode, output.slice(-3000)).toBe(0);
    expect(output.match(/ RUN {2}v\d/g)).toHaveLength(1);
    expect(output).toMatch(/^Go\/No-Go: GO for build [0-9a-f]{7,} — /m);
    expect(output).not.toMatch(/launch stopped/);
    expect(readLaunchStop(reports)).toBeUndefined();
    expect(readFileSync(join(reports, 'gonogo.junit.xml'), 'utf8')).toContain('name="decision" value="GO"');
  }, 600_000);

  it('the stop note of a launch does not hold the phases run after it one by one, once they pass', async () => {
    const reports = evidenceDir([deployed, 'deploy']);
    writeLaunchStop(reports, 'preflight failed (1.5 — A backup newer than 24 h exists); later phases not run');
    for (const p of ['preflight', 'smoke'] as const) expect((await phase(p, { reports })).exitCode).toBe(0);
    const g = await gonogo(reports);
    expect(g.decision.decision, g.reasons).toBe('GO');
    expect(g.reasons).not.toMatch(/launch stopped/);
  }, 600_000);

  it('a phase that cannot start: exit 2, and an earlier GO is replaced by a HOLD that names the setting', async () => {
    const reports = evidenceDir([deployed, 'deploy']);
    writeFileSync(join(reports, 'gonogo.html'), '<div id="banner" class="go">GO</div>');
    const r = await run(['sh', join(repoRoot, 'scripts', 'launch.sh'), '--no-deploy'], {
      env: { RUNBOOK_REPORTS_DIR: reports, RUNBOOK_REPLICA_MAX_LAG_BYTES: 'lots', FORCE_COLOR: '0' },
      timeoutMs: 300_000,
    });
    expect(r.exitCode, r.output.slice(-3000)).toBe(2);
    expect(r.output).toMatch(/cannot start: [^\n]*RUNBOOK_REPLICA_MAX_LAG_BYTES/);
    expect(readFileSync(join(reports, 'gonogo.html'), 'utf8')).toMatch(/class="hold">HOLD/);
    expect(readFileSync(join(reports, 'gonogo.md'), 'utf8')).toMatch(
      /^⛔ HOLD[\s\S]*could not start[^\n]*RUNBOOK_REPLICA_MAX_LAG_BYTES/,
    );
    expect(readFileSync(join(reports, 'gonogo.junit.xml'), 'utf8')).toContain('name="decision" value="HOLD"');
    expect(existsSync(join(reports, 'evidence', 'smoke.json'))).toBe(false);
  }, 600_000);

  it('only preflight cannot start (settings the gate and smoke do not need): its own HOLD, whichever setup ran first', async () => {
    const reports = reportsDir();
    writeFileSync(join(reports, 'gonogo.html'), '<div id="banner" class="go">GO</div>');
    // A staging laid out nowhere, with only what smoke and the gate read (CI against a remote staging): both
    // start, preflight cannot.
    const r = await run(['sh', join(repoRoot, 'scripts', 'launch.sh'), '--no-deploy'], {
      env: {
        RUNBOOK_STAGING_DIR: join(reports, 'no-staging-here'),
        RUNBOOK_DEPLOY_SHA: 'abc1234',
        RUNBOOK_API_URL: 'https://127.0.0.1:1',
        RUNBOOK_MCP_URL: 'https://127.0.0.1:1',
        BUYWHERE_API_KEY: 'launch-test-key',
        RUNBOOK_REPORTS_DIR: reports,
        FORCE_COLOR: '0',
      },
      timeoutMs: 300_000,
    });
    expect(r.exitCode, r.output.slice(-3000)).toBe(2);
    const md = readFileSync(join(reports, 'gonogo.md'), 'utf8');
    expect(md).toMatch(/^⛔ HOLD/);
    expect(md).toMatch(/preflight could not start, so no check ran: configuration error: [^\n]*RUNBOOK_COMPOSE_FILE/);
    expect(readFileSync(join(reports, 'gonogo.html'), 'utf8')).toMatch(/class="hold">HOLD/);
    expect(readFileSync(join(reports, 'gonogo.junit.xml'), 'utf8')).toContain('name="decision" value="HOLD"');
  }, 600_000);
});

describe('npm run launch: its arguments', () => {
  it('anything but --no-deploy alone goes to the full command line: help, and an unknown flag refused', async () => {
    const sh = join(repoRoot, 'scripts', 'launch.sh');
    const help = await run(['sh', sh, '--no-deploy', '--help'], { timeoutMs: 60_000 });
    expect(help.exitCode).toBe(0);
    expect(help.output).toMatch(/^usage: npm run launch -- \[flags\]/m);
    expect(help.output).toMatch(/--no-deploy +preflight → smoke → gonogo/);
    const wrong = await run(['sh', sh, '--no-deploy', '--dry'], { timeoutMs: 60_000 });
    expect(wrong.exitCode).toBe(2);
    expect(wrong.output).toMatch(/Unknown option '--dry'/);
    expect(wrong.output).not.toMatch(/ RUN {2}v\d/);
  });
});

describe('npm run launch that cannot start', () => {
  it('a configuration error, with or without a deploy: exit 2 as for every command, nothing deployed, a HOLD that names the setting', async () => {
    for (const args of [[], ['--no-deploy']]) {
      const reports = reportsDir();
      writeFileSync(join(reports, 'gonogo.html'), '<div id="banner" class="go">GO</div>');
      // The wrapper itself: `npm run launch -- --no-deploy` alone would start Vitest without it.
      const r = await run(['node', '--import', 'tsx', join(repoRoot, 'scripts', 'launch.ts'), ...args], {
        cwd: repoRoot,
        env: { RUNBOOK_REPORTS_DIR: reports, RUNBOOK_REPLICA_MAX_LAG_BYTES: 'lots', FORCE_COLOR: '0' },
        timeoutMs: 300_000,
      });
      expect(r.exitCode, r.output.slice(-3000)).toBe(2);
      expect(r.output).toMatch(/^Decision: HOLD — (configuration error|a phase could not start)/m);
      expect(readFileSync(join(reports, 'gonogo.md'), 'utf8')).toMatch(
        /^⛔ HOLD[\s\S]*could not start[^\n]*RUNBOOK_REPLICA_MAX_LAG_BYTES/,
      );
      expect(readFileSync(join(reports, 'gonogo.html'), 'utf8')).toMatch(/class="hold">HOLD/);
      expect(existsSync(join(reports, 'evidence', 'deploy.json'))).toBe(false);
    }
  }, 600_000);
});

describe('npm run gonogo that cannot start', () => {
  it('a configuration error replaces any earlier GO with a HOLD that says why', async () => {
    const reports = reportsDir();
    writeFileSync(join(reports, 'gonogo.html'), '<div id="banner" class="go">GO</div>');
    // The gate needs the API and MCP URLs (not the database's): a malformed one stops it.
    const r = await phase('gonogo', { reports, env: { RUNBOOK_API_URL: 'ftp://127.0.0.1:1' } });
    expect(r.exitCode).toBe(2);
    expect(r.evidence.outcome).toMatch(
      /configuration error: [\s\S]*RUNBOOK_API_URL\n\s+expected: an http or https URL/,
    );
    const html = readFileSync(join(reports, 'gonogo.html'), 'utf8');
    expect(html).toMatch(/class="hold">HOLD/);
    expect(html).toMatch(/the gate could not start: [\s\S]*RUNBOOK_API_URL/);
    expect(readFileSync(join(reports, 'gonogo.junit.xml'), 'utf8')).toContain('name="decision" value="HOLD"');
  });
});
