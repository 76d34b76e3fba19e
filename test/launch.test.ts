// npm run launch: stops at the first failing phase and still ends with a HOLD artefact that says why.
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { launch } from '../scripts/launch';
import { readEvidence } from '../lib/harness/evidence';
import { evidenceDir, phase, reportsDir, warmUp } from './support/harness';

describe('npm run launch', () => {
  it('stops at a failing preflight, never deploys, and writes a HOLD artefact with the reason', async () => {
    const backups = mkdtempSync(join(tmpdir(), 'rb-old-'));
    writeFileSync(join(backups, 'catalog-old.dump'), 'PGDMP');
    const old = new Date(Date.now() - 30 * 3_600_000);
    utimesSync(join(backups, 'catalog-old.dump'), old, old);
    const reports = reportsDir();
    const r = await launch({ echo: false, env: { RUNBOOK_REPORTS_DIR: reports, RUNBOOK_BACKUPS_DIR: backups } });
    expect(r).toMatchObject({ decision: 'HOLD', stopped: expect.stringMatching(/^preflight failed/) });
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
    expect(r.stopped).toMatch(/^preflight failed \(1.5 — /);
    const smoke = readEvidence(reports, 'smoke');
    if (!smoke.ok) throw new Error(smoke.problem);
    expect(smoke.evidence.checks).toHaveLength(10);
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
});

describe('npm run gonogo that cannot start', () => {
  it('a configuration error replaces any earlier GO with a HOLD that says why', async () => {
    const reports = reportsDir();
    writeFileSync(join(reports, 'gonogo.html'), '<div id="banner" class="go">GO</div>');
    // The gate needs the API and MCP URLs (not the database's): a malformed one stops it.
    const r = await phase('gonogo', { reports, env: { RUNBOOK_API_URL: 'ftp://127.0.0.1:1' } });
    expect(r.exitCode).toBe(2);
    expect(r.evidence.outcome).toMatch(/configuration error: [\s\S]*RUNBOOK_API_URL: expected an http or https URL/);
    const html = readFileSync(join(reports, 'gonogo.html'), 'utf8');
    expect(html).toMatch(/class="hold">HOLD/);
    expect(html).toMatch(/the gate could not start: [\s\S]*RUNBOOK_API_URL/);
    expect(readFileSync(join(reports, 'gonogo.junit.xml'), 'utf8')).toContain('name="decision" value="HOLD"');
  });
});
