// npm run launch: stops at the first failing phase and still ends with a HOLD artefact that says why.
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launch } from '../scripts/launch';
import { phase, reportsDir } from './support/harness';

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
