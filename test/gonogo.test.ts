// Smoke and the Go/No-Go gate on the real staging stack: GO when healthy, advisories visible without
// blocking, fail closed on the evidence itself, and the HTML artefact as Chromium renders it. Each
// condition under its own fault is in the fault matrix (faults.test.ts).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/core/exec';
import { readEvidence, writeEvidence, type PhaseEvidence } from '../lib/harness/evidence';
import { repoRoot } from '../lib/harness/config';
import { evidenceDir, gonogo, healthyEvidence, phase, reportsDir, resetFaults, setFaults, t } from './support/harness';

let healthy: { deploy: string; preflight: string; smoke: string };
const allHealthy = () =>
  evidenceDir([healthy.deploy, 'deploy'], [healthy.preflight, 'preflight'], [healthy.smoke, 'smoke']);
const gate = gonogo;

beforeAll(async () => {
  healthy = await healthyEvidence();
}, 300_000);
afterEach(resetFaults);

describe('smoke against a remote staging, as CI runs it', () => {
  it('from a clone with no local stack, smoke needs only the URLs, the CA, the key and the build; the gate on that alone is HOLD, naming what is missing', async () => {
    const healthySmoke = readEvidence(healthy.smoke, 'smoke');
    const running = healthySmoke.ok ? healthySmoke.evidence.identity!.build : 'unknown';
    const dir = reportsDir();
    const env = {
      RUNBOOK_STAGING_DIR: join(dir, 'no-local-stack'),
      RUNBOOK_API_URL: t.apiUrl,
      RUNBOOK_MCP_URL: t.mcpUrl,
      RUNBOOK_CA_FILE: t.caFile!,
      BUYWHERE_API_KEY: t.apiKey.reveal(),
      RUNBOOK_DEPLOY_SHA: running,
    };
    const s = await phase('smoke', { reports: dir, env });
    expect(s.exitCode, s.output).toBe(0);
    expect(s.evidence.deploySha).toBe(running);
    expect(s.output).not.toMatch(/RUNBOOK_COMPOSE_FILE|staging:up/);
    // No engine to ask which build each replica runs: a could-not-check that says so, never a pass or a skip, and
    // one that does not fail a run whose blocking checks passed.
    expect(s.check('smoke.replicas')).toMatchObject({
      status: 'error',
      advisory: true,
      message: expect.stringMatching(/^could not check: this smoke has no local API address or engine to ask/),
    });
    const g = await gonogo(dir, env);
    expect(g.exitCode).not.toBe(0);
    expect(g.decision.decision).toBe('HOLD');
    expect(g.reasons).toMatch(/no preflight evidence/);
  });

  it('without the key, smoke stops before any check, naming every missing setting and where to set it, with no stack trace', async () => {
    const dir = reportsDir();
    const s = await phase('smoke', {
      reports: dir,
      env: { RUNBOOK_STAGING_DIR: join(dir, 'no-local-stack'), RUNBOOK_API_URL: t.apiUrl },
    });
    expect(s.exitCode).toBe(2);
    expect(s.output).toMatch(
      /2 settings need fixing:\n\s+- RUNBOOK_MCP_URL\n\s+expected: MCP base URL[\s\S]*\n\s+- BUYWHERE_API_KEY\n\s+expected: API key/,
    );
    expect(s.output).not.toMatch(/node_modules\/vitest|    at /);
  });
});

describe('healthy stack', () => {
  it('smoke passes all ten in runbook order; the gate says GO for the running build and exits 0', async () => {
    const dir = allHealthy();
    const g = await gate(dir);
    expect(g.exitCode, g.output).toBe(0);
    expect(g.decision.decision).toBe('GO');
    const post = readFileSync(join(dir, 'gonogo.md'), 'utf8');
    expect(post).toMatch(new RegExp(`^✅ GO — BuyWhere deploy ${g.decision.deploySha}`));
    // The gate ran with its reports folder (and the tests' evidence key) set: both are shown.
    expect(post).toMatch(/Settings that differ from the runbook's defaults: .*RUNBOOK_REPORTS_DIR=/);
    expect(post).toMatch(/RUNBOOK_EVIDENCE_KEY_FILE=/);
  });

  it('a GO is withdrawn as soon as a later smoke starts in its folder: the smoke fails, and the folder says HOLD', async () => {
    const dir = allHealthy();
    const g = await gate(dir);
    expect(g.decision.decision, g.reasons).toBe('GO');
    await setFaults({ wrongTag: true });
    try {
      const s = await phase('smoke', { reports: dir });
      expect(s.check('smoke.6').status).toBe('fail');
      expect(s.output).toMatch(/Go\/No-Go: the earlier decision here \(GO for build \w+, decided .*\) is withdrawn/);
    } finally {
      await resetFaults();
    }
    const record = JSON.parse(readFileSync(join(dir, 'evidence', 'gate.json'), 'utf8')) as {
      decision: string;
      withdrawn?: { decision: string; by: string };
    };
    expect(record.decision).toBe('HOLD');
    expect(record.withdrawn).toMatchObject({ decision: 'GO', by: 'smoke' });
    for (const f of ['gonogo.md', 'gonogo.html', 'gonogo.junit.xml']) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text, f).toMatch(/withdrawn when a smoke run started here/);
      expect(text, f).not.toMatch(/✅ GO|class="go"/);
    }
  });

  it("smoke with --reporter=dot, which drops the runbook's reporter, stops before any check; the gate holds", async () => {
    const dir = allHealthy();
    const s = await phase('smoke', { reports: dir, args: ['--reporter=dot'] });
    expect(s.exitCode, s.output).toBe(2);
    expect(s.output).toMatch(/smoke cannot start: the runbook's reporter is not in this run/);
    expect(s.check('smoke.config')).toMatchObject({ status: 'error', message: expect.stringMatching(/--reporter/) });
    const g = await gate(dir);
    expect(g.decision.decision).toBe('HOLD');
    expect(g.reasons).toMatch(/the runbook's reporter is not in this run/);
  });

  it('JUnit artefacts validate against the published schema', async () => {
    const dir = allHealthy();
    await gate(dir);
    const schema = join(__dirname, 'fixtures', 'jenkins-xunit-junit-10.xsd');
    for (const f of [
      join(dir, 'gonogo.junit.xml'),
      join(healthy.smoke, 'smoke.junit.xml'),
      join(healthy.preflight, 'preflight.junit.xml'),
      join(healthy.deploy, 'deploy.junit.xml'),
    ]) {
      const r = await run(['xmllint', '--noout', '--schema', schema, f]);
      expect(r.exitCode, r.output).toBe(0);
    }
  });

  it('a HOLD exits non-zero whatever filter the gate runs with', async () => {
    const dir = evidenceDir([healthy.preflight, 'preflight'], [healthy.smoke, 'smoke']);
    const g = await phase('gonogo', { reports: dir, env: {}, args: ['-t', 'Condition 1'] });
    expect(g.exitCode).not.toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'evidence', 'gate.json'), 'utf8')).decision).toBe('HOLD');
    const none = await phase('gonogo', {
      reports: evidenceDir([healthy.deploy, 'deploy'], [healthy.preflight, 'preflight'], [healthy.smoke, 'smoke']),
      args: ['-t', 'no test has this name'],
    });
    expect(none.exitCode, 'no decision written is never a pass').not.toBe(0);
  });
});

describe('advisory results', () => {
  it('an MCP failure alone still gives GO, with a visible warning', async () => {
    const env = { RUNBOOK_MCP_URL: 'http://127.0.0.1:9' };
    const s = await phase('smoke', { env });
    expect(s.check('smoke.7').status).toBe('error');
    const dir = evidenceDir([healthy.deploy, 'deploy'], [healthy.preflight, 'preflight'], [s.reports, 'smoke']);
    const g = await gate(dir, env);
    expect(g.decision.decision, g.reasons).toBe('GO');
    expect(readFileSync(join(dir, 'gonogo.html'), 'utf8')).toMatch(/class="warn"><b>WARNING \(advisory\)<\/b> Smoke 7/);
  });

  it('the gate run without the MCP override smoke used is HOLD, naming the origin', async () => {
    const s = await phase('smoke', { env: { RUNBOOK_MCP_URL: 'http://127.0.0.1:9' } });
    const g = await gate(
      evidenceDir([healthy.deploy, 'deploy'], [healthy.preflight, 'preflight'], [s.reports, 'smoke']),
    );
    expect(g.decision.decision).toBe('HOLD');
    expect(g.reasons).toMatch(/mcpOrigin: measured "http:\/\/127.0.0.1:9"/);
  });
});

describe('fail closed on the evidence itself', () => {
  it('missing smoke evidence, stale evidence and evidence of another build each give HOLD', async () => {
    let g = await gate(evidenceDir([healthy.deploy, 'deploy'], [healthy.preflight, 'preflight']));
    expect(g.decision.decision).toBe('HOLD');
    expect(g.decision.conditions[0]!.reason).toMatch(/no smoke evidence/);

    const dir = allHealthy();
    // Each edit is sealed again, so the gate is seen to hold on the rule itself.
    const ev = JSON.parse(readFileSync(join(dir, 'evidence', 'smoke.json'), 'utf8')) as PhaseEvidence;
    writeEvidence(dir, { ...ev, finishedAt: new Date(Date.now() - 3_600_000).toISOString() });
    g = await gate(dir);
    expect(g.decision.conditions[0]!.reason).toMatch(/min old/);

    writeEvidence(dir, { ...ev, identity: { ...ev.identity!, build: '0000000' } });
    g = await gate(dir);
    expect(g.decision.conditions[0]!.reason).toMatch(/smoke measured build 0000000/);
  });

  it('a failed check edited into a pass after the run is HOLD; the same edit sealed with the key would be GO', async () => {
    await setFaults({ wrongTag: true });
    const s = await phase('smoke');
    await resetFaults();
    const dir = evidenceDir([healthy.deploy, 'deploy'], [healthy.preflight, 'preflight'], [s.reports, 'smoke']);
    const path = join(dir, 'evidence', 'smoke.json');
    const ev = JSON.parse(readFileSync(path, 'utf8')) as PhaseEvidence;
    const redirect = ev.checks.find((c) => c.id === 'smoke.6')!;
    expect(redirect.status).toBe('fail');
    const good = readEvidence(healthy.smoke, 'smoke');
    if (!good.ok) throw new Error(good.problem);
    Object.assign(
      redirect,
      good.evidence.checks.find((c) => c.id === 'smoke.6')!,
      { at: redirect.at },
    );
    ev.outcome = good.evidence.outcome;
    writeFileSync(path, JSON.stringify(ev, null, 2));
    const g = await gate(dir);
    expect(g.decision.decision).toBe('HOLD');
    expect(g.reasons).toMatch(/smoke evidence is not as its run wrote it: its seal does not match the key at/);

    writeEvidence(dir, ev);
    expect((await gate(dir)).decision.decision).toBe('GO');
  });
});

describe('the HTML artefact in headless Chromium', () => {
  const flags = () => [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chromium-'))}`,
  ];
  // The page inside a frame of the width under test (headless Chromium's window is at least 500 px wide); the
  // outer page copies out the frame's layout and rendered body, so the dumped DOM shows both.
  const framed = (dir: string, width: number, html = readFileSync(join(dir, 'gonogo.html'), 'utf8')) => {
    const inner = join(dir, `gonogo.rendered-${width}.html`);
    writeFileSync(inner, html);
    const outer = join(dir, `gonogo.frame-${width}.html`);
    writeFileSync(
      outer,
      `<!doctype html><html><body><iframe id="f" src="${inner}" style="width:${width}px;height:1000px;border:0"></iframe><div id="copy"></div>
<script>document.getElementById('f').addEventListener('load', function () {
  var d = this.contentDocument;
  document.body.setAttribute('data-layout', JSON.stringify({ scrollWidth: d.documentElement.scrollWidth, innerWidth: this.contentWindow.innerWidth }));
  document.getElementById('copy').innerHTML = d.body.innerHTML;
});</script></body></html>`,
    );
    return outer;
  };
  // Each rendering is kept as an artefact of the run, for a person to look at: reports/screenshots/.
  const screenshots = join(repoRoot, 'reports', 'screenshots');
  const render = async (dir: string, width: number, html?: string, name = 'go') => {
    const page = framed(dir, width, html);
    const shot = join(dir, `gonogo-${width}.png`);
    const s = await run(
      [
        'chromium',
        ...flags(),
        '--allow-file-access-from-files',
        `--screenshot=${shot}`,
        '--window-size=1300,1000',
        `file://${page}`,
      ],
      { timeoutMs: 60_000 },
    );
    expect(existsSync(shot), s.output).toBe(true);
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    mkdirSync(screenshots, { recursive: true });
    copyFileSync(shot, join(screenshots, `gonogo-${name}-${width}.png`));
    const d = await run(
      [
        'chromium',
        ...flags(),
        '--allow-file-access-from-files',
        '--window-size=1300,1000',
        '--dump-dom',
        `file://${page}`,
      ],
      { timeoutMs: 60_000 },
    );
    const layout = JSON.parse((/data-layout="([^"]*)"/.exec(d.output)?.[1] ?? '{}').replace(/&quot;/g, '"')) as {
      scrollWidth?: number;
      innerWidth?: number;
    };
    return { dom: d.output, layout };
  };

  it.each([1280, 390])(
    'at %i px: decision, summary, every condition, valid until, no horizontal overflow',
    async (width) => {
      const dir = allHealthy();
      const g = await gate(dir);
      const { dom, layout } = await render(dir, width);
      expect(dom).toMatch(/<div id="banner" class="go">GO<\/div>/);
      expect(dom).toMatch(/<p id="summary">8 of 8 GO<\/p>/);
      expect(dom).toMatch(/<div id="env"><span>STAGING — not production<\/span><\/div>/);
      for (let n = 1; n <= 7; n++) expect(dom).toMatch(new RegExp(`<tr class="go pass" data-condition="${n}">`));
      const until = /data-until="([^"]+)"/.exec(dom)?.[1];
      expect(Date.parse(until!)).toBeGreaterThan(Date.parse(g.decision.decidedAt));
      expect(dom).toMatch(/valid until <b>\w{3} \d+ \w{3} \d\d:\d\d E[SD]T \(\d\d:\d\d UTC\)<\/b>/);
      expect(layout.innerWidth).toBe(width);
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth!);
    },
    180_000,
  );

  it('renders the HOLD banner with the failing condition, how it held, and its action', async () => {
    const dir = evidenceDir([healthy.deploy, 'deploy'], [healthy.preflight, 'preflight']);
    await gate(dir);
    const { dom, layout } = await render(dir, 1280, undefined, 'hold');
    expect(dom).toMatch(/<div id="banner" class="hold">HOLD<\/div>/);
    expect(dom).toMatch(/<p id="summary">HOLD: \d of 8 — API health endpoint \(could not check\)/);
    expect(dom).toMatch(
      /<tr class="hold could-not-run" data-condition="1">[\s\S]*HOLD — could not check[\s\S]*HOLD — page Bolt/,
    );
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth!);
  }, 120_000);

  it('a GO opened after its window closed says EXPIRED', async () => {
    const dir = allHealthy();
    await gate(dir);
    const html = readFileSync(join(dir, 'gonogo.html'), 'utf8').replace(
      /data-until="[^"]+"/,
      `data-until="${new Date(Date.now() - 60_000).toISOString()}"`,
    );
    const { dom } = await render(dir, 1280, html, 'expired');
    expect(dom).toMatch(/<div id="banner" class="expired">GO — EXPIRED: rerun preflight, smoke and the gate<\/div>/);
  }, 120_000);

  it('prints to A4 portrait', async () => {
    const dir = allHealthy();
    await gate(dir);
    const pdf = join(dir, 'gonogo.pdf');
    const r = await run(
      ['chromium', ...flags(), `--print-to-pdf=${pdf}`, '--no-pdf-header-footer', `file://${join(dir, 'gonogo.html')}`],
      { timeoutMs: 60_000 },
    );
    expect(existsSync(pdf), r.output).toBe(true);
    const boxes = [...readFileSync(pdf, 'latin1').matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)];
    expect(boxes.length).toBeGreaterThan(0);
    for (const [, w, h] of boxes) expect([Math.round(Number(w)), Math.round(Number(h))]).toEqual([595, 842]);
  }, 120_000);
});
