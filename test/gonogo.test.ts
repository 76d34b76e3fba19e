// Smoke and the Go/No-Go gate on the real staging stack: GO when healthy, advisories visible without
// blocking, fail closed on the evidence itself, and the HTML artefact as Chromium renders it. Each
// condition under its own fault is in the fault matrix (faults.test.ts).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/exec';
import { healthyEvidence, phase, reportsDir, resetFaults } from './support/harness';

let healthyPreflight: string;
let healthySmoke: string;

const withEvidence = (...phases: Array<[string, string]>) => {
  const dir = reportsDir();
  mkdirSync(join(dir, 'evidence'), { recursive: true });
  for (const [from, name] of phases) cpSync(join(from, 'evidence', `${name}.json`), join(dir, 'evidence', `${name}.json`));
  return dir;
};

async function gate(dir: string, env: Record<string, string> = {}) {
  const g = await phase('gonogo', { reports: dir, env });
  return { ...g, decision: JSON.parse(readFileSync(join(dir, 'evidence', 'gate.json'), 'utf8')) as { decision: string; conditions: Array<{ verdict: string; action: string; reason: string }> } };
}

beforeAll(async () => {
  ({ preflight: healthyPreflight, smoke: healthySmoke } = await healthyEvidence());
}, 120_000);
afterEach(resetFaults);

describe('healthy stack', () => {
  it('smoke passes all ten in runbook order; the gate says GO and exits 0', async () => {
    const dir = withEvidence([healthyPreflight, 'preflight'], [healthySmoke, 'smoke']);
    const g = await gate(dir);
    expect(g.exitCode, g.output).toBe(0);
    expect(g.decision.decision).toBe('GO');
    expect(readFileSync(join(dir, 'gonogo.md'), 'utf8')).toMatch(/^✅ GO/);
  });

  it('JUnit artefacts validate against the published schema', async () => {
    const dir = withEvidence([healthyPreflight, 'preflight'], [healthySmoke, 'smoke']);
    await gate(dir);
    const schema = join(__dirname, 'fixtures', 'jenkins-xunit-junit-10.xsd');
    for (const f of [join(dir, 'gonogo.junit.xml'), join(healthySmoke, 'smoke.junit.xml'), join(healthyPreflight, 'preflight.junit.xml')]) {
      const r = await run(['xmllint', '--noout', '--schema', schema, f]);
      expect(r.exitCode, r.output).toBe(0);
    }
  });
});

describe('advisory results', () => {
  it('an MCP failure alone still gives GO, with a visible warning', async () => {
    const s = await phase('smoke', { env: { RUNBOOK_MCP_URL: 'http://127.0.0.1:9' } });
    expect(s.check('smoke.7').status).toBe('error');
    const dir = withEvidence([healthyPreflight, 'preflight']);
    cpSync(join(s.reports, 'evidence', 'smoke.json'), join(dir, 'evidence', 'smoke.json'));
    const g = await gate(dir);
    expect(g.decision.decision).toBe('GO');
    expect(readFileSync(join(dir, 'gonogo.html'), 'utf8')).toMatch(/class="warn">Smoke 7/);
  });
});

describe('fail closed on the evidence itself', () => {
  it('missing smoke evidence, stale evidence and evidence from another SHA each give HOLD', async () => {
    let g = await gate(withEvidence([healthyPreflight, 'preflight']));
    expect(g.decision.decision).toBe('HOLD');
    expect(g.decision.conditions[0]!.reason).toMatch(/no smoke evidence/);

    const dir = withEvidence([healthyPreflight, 'preflight'], [healthySmoke, 'smoke']);
    const ev = JSON.parse(readFileSync(join(dir, 'evidence', 'smoke.json'), 'utf8'));
    writeFileSync(join(dir, 'evidence', 'smoke.json'), JSON.stringify({ ...ev, finishedAt: new Date(Date.now() - 3_600_000).toISOString() }));
    g = await gate(dir);
    expect(g.decision.conditions[0]!.reason).toMatch(/min old/);

    writeFileSync(join(dir, 'evidence', 'smoke.json'), JSON.stringify({ ...ev, deploySha: '0000000' }));
    g = await gate(dir);
    expect(g.decision.conditions[0]!.reason).toMatch(/DEPLOY_SHA 0000000/);
  });
});

describe('the HTML artefact in headless Chromium', () => {
  const render = async (dir: string) => {
    const page = join(dir, 'gonogo.html');
    const shot = join(dir, 'gonogo.png');
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chromium-'))}`];
    const s = await run(['chromium', ...flags, `--screenshot=${shot}`, '--window-size=1280,1000', `file://${page}`], { timeoutMs: 60_000 });
    expect(existsSync(shot), s.output).toBe(true);
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    const d = await run(['chromium', ...flags, '--dump-dom', `file://${page}`], { timeoutMs: 60_000 });
    return d.output;
  };

  it('renders the GO banner and every condition from file://', async () => {
    const dir = withEvidence([healthyPreflight, 'preflight'], [healthySmoke, 'smoke']);
    await gate(dir);
    const dom = await render(dir);
    expect(dom).toMatch(/<div id="banner" class="go">GO<\/div>/);
    for (let n = 1; n <= 7; n++) expect(dom).toMatch(new RegExp(`<tr class="go" data-condition="${n}">`));
  }, 120_000);

  it('renders the HOLD banner with the failing condition and its action', async () => {
    const dir = withEvidence([healthyPreflight, 'preflight']);
    await gate(dir);
    const dom = await render(dir);
    expect(dom).toMatch(/<div id="banner" class="hold">HOLD<\/div>/);
    expect(dom).toMatch(/<tr class="hold" data-condition="1">[\s\S]*HOLD — page Bolt/);
  }, 120_000);
});
