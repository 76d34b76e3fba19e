// Smoke and the Go/No-Go gate on the real staging stack: GO when healthy, and each mandatory condition
// turns HOLD with its own action under its injected fault.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/exec';
import { issueServerCert } from '../staging/tls';
import { phase, reportsDir, resetFaults, setFaults, t } from './support/harness';

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
  await resetFaults();
  healthyPreflight = reportsDir();
  healthySmoke = reportsDir();
  const [p, s] = await Promise.all([phase('preflight', { reports: healthyPreflight }), phase('smoke', { reports: healthySmoke })]);
  expect(p.exitCode, p.output).toBe(0);
  expect(s.exitCode, s.output).toBe(0);
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

const smokeFaults: Array<[number, string, Record<string, number | boolean>, string, Record<string, string>?]> = [
  [1, 'smoke.1', { healthDown: true }, 'HOLD — page Bolt'],
  [2, 'smoke.2', { degradedHealth: true }, 'HOLD — page Bolt'],
  [3, 'smoke.4', { wrongCurrency: true }, 'HOLD — page Bolt'],
  [4, 'smoke.6', { untaggedRedirect: true }, 'HOLD — page Sol/Link'],
  [7, 'smoke.9', { searchDelayMs: 2100 }, 'HOLD — investigate warm-up', { RUNBOOK_P99_SAMPLES: '8' }],
];

describe.each(smokeFaults)('condition %i under its fault on the real API', (n, id, faults, action, env) => {
  it(`${id} fails and the gate holds with "${action}"`, async () => {
    await setFaults(faults);
    const s = await phase('smoke', { env });
    expect(s.exitCode).not.toBe(0);
    expect(s.check(id).status).toBe('fail');
    expect(s.check(id).message).toContain(action);
    await resetFaults();
    const dir = withEvidence([healthyPreflight, 'preflight']);
    cpSync(join(s.reports, 'evidence', 'smoke.json'), join(dir, 'evidence', 'smoke.json'));
    const g = await gate(dir);
    expect(g.exitCode).not.toBe(0);
    expect(g.decision.decision).toBe('HOLD');
    expect(g.decision.conditions[n - 1]).toMatchObject({ verdict: 'HOLD', action });
    expect(readFileSync(join(dir, 'gonogo.junit.xml'), 'utf8')).toContain(action);
  }, 180_000);
});

describe('other smoke faults', () => {
  it('a wrongly tagged redirect (buywhere-200) and a lookalike host both fail smoke 6', async () => {
    await setFaults({ wrongTag: true });
    expect((await phase('smoke')).check('smoke.6').message).toMatch(/tag in .*buywhere-200/);
    await setFaults({ wrongTag: false, lookalikeRedirect: true });
    expect((await phase('smoke')).check('smoke.6').message).toMatch(/amazon\.com\.evil\.example/);
  });

  it('search 5xx fails smoke 4, 5 and 9', async () => {
    await setFaults({ search5xx: true });
    const s = await phase('smoke');
    for (const id of ['smoke.4', 'smoke.5', 'smoke.9']) expect(s.check(id).status).toBe('fail');
  });

  async function withServerCert(opts: { days: number; hosts?: string[] }, fn: () => Promise<void>) {
    const tlsDir = join(t.projectDir, 'tls');
    const keep = mkdtempSync(join(tmpdir(), 'rb-tls-'));
    cpSync(join(tlsDir, 'server.crt'), join(keep, 'server.crt'));
    cpSync(join(tlsDir, 'server.key'), join(keep, 'server.key'));
    const reload = () => fetch(`${t.adminUrl}/admin/tls/reload`, { method: 'POST' });
    try {
      await issueServerCert(tlsDir, opts);
      expect((await reload()).status).toBe(200);
      await fn();
    } finally {
      cpSync(join(keep, 'server.crt'), join(tlsDir, 'server.crt'));
      cpSync(join(keep, 'server.key'), join(tlsDir, 'server.key'));
      await reload();
    }
  }

  it('a certificate expiring in 10 days fails smoke 10 (advisory: the gate still says GO)', async () => {
    await withServerCert({ days: 10 }, async () => {
      const s = await phase('smoke');
      expect(s.check('smoke.10')).toMatchObject({ status: 'fail', measured: 9, advisory: true });
      const dir = withEvidence([healthyPreflight, 'preflight']);
      cpSync(join(s.reports, 'evidence', 'smoke.json'), join(dir, 'evidence', 'smoke.json'));
      const g = await gate(dir);
      expect(g.decision.decision).toBe('GO');
      expect(readFileSync(join(dir, 'gonogo.md'), 'utf8')).toMatch(/⚠️ Smoke 10/);
    });
  });

  it('a certificate for another host: verification stays on, every HTTPS check errors and the gate holds', async () => {
    await withServerCert({ days: 365, hosts: ['other.example'] }, async () => {
      const s = await phase('smoke');
      expect(s.check('smoke.10')).toMatchObject({ status: 'error', message: expect.stringMatching(/other\.example|altnames/i) });
      expect(s.check('smoke.1').status).toBe('error');
      const dir = withEvidence([healthyPreflight, 'preflight']);
      cpSync(join(s.reports, 'evidence', 'smoke.json'), join(dir, 'evidence', 'smoke.json'));
      expect((await gate(dir)).decision.decision).toBe('HOLD');
    });
  });

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

describe('conditions 5 and 6 come from preflight', () => {
  it('an old backup holds with "run backup first"; a full disk holds with "emergency cleanup"', async () => {
    const backups = mkdtempSync(join(tmpdir(), 'rb-old-'));
    writeFileSync(join(backups, 'catalog-old.dump'), 'x');
    const old = new Date(Date.now() - 30 * 3_600_000);
    utimesSync(join(backups, 'catalog-old.dump'), old, old);
    const p = await phase('preflight', { env: { RUNBOOK_BACKUPS_DIR: backups } });
    let dir = withEvidence([healthySmoke, 'smoke']);
    cpSync(join(p.reports, 'evidence', 'preflight.json'), join(dir, 'evidence', 'preflight.json'));
    let g = await gate(dir);
    expect(g.decision.conditions[4]).toMatchObject({ verdict: 'HOLD', action: 'HOLD — run backup first' });

    const mnt = mkdtempSync(join(tmpdir(), 'rb-full-'));
    await run(['mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
    try {
      writeFileSync(join(mnt, 'fill'), Buffer.alloc(3.8 * 1024 * 1024));
      const p2 = await phase('preflight', { env: { RUNBOOK_DISK_PATH: mnt } });
      dir = withEvidence([healthySmoke, 'smoke']);
      cpSync(join(p2.reports, 'evidence', 'preflight.json'), join(dir, 'evidence', 'preflight.json'));
      g = await gate(dir);
      expect(g.decision.conditions[5]).toMatchObject({ verdict: 'HOLD', action: 'HOLD — emergency cleanup' });
    } finally {
      await run(['umount', mnt]);
    }
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
