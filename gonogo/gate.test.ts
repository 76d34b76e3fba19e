import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureSealKey, readSealKey } from '../lib/core/seal';
import { evidencePath, forgetEvidence, writeEvidence, type PhaseEvidence } from '../lib/harness/evidence';
import type { Identity } from '../lib/harness/identity';
import { catalogue, checksOf, clockSkewMs, entry, p99MinSamples, type CheckId } from '../runbook/catalogue';
import { gateHtml, gateJunit, gateMarkdown, runbookTime, summaryLine, writeGateArtefacts } from './artefacts';
import { evaluateGate, gateDecision } from './gate';
import { at, healthy, identity, now, running, settings, type Fixture, type Phases } from './fixture';

const keyFile = join(mkdtempSync(join(tmpdir(), 'gate-key-')), 'evidence.key');
const sealKey = ensureSealKey(keyFile);

function write(dir: string, e: Partial<Fixture> & { rollback?: PhaseEvidence }) {
  for (const p of Object.values(e)) if (p) writeEvidence(dir, p, keyFile);
}

function gate(mutate: (e: Fixture) => void = () => {}, opts: { identity?: Partial<Identity>; now?: Date } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gate-'));
  const e = healthy();
  mutate(e);
  write(dir, e);
  const g = evaluateGate({
    reportsDir: dir,
    target: 'production',
    identity: { ...identity, ...opts.identity },
    settings,
    now: opts.now ?? now,
    maxAgeMin: 30,
    sealKey,
  });
  return { dir, g, e };
}
const rec = (e: PhaseEvidence, id: CheckId) => e.checks.find((c) => c.id === id)!;
const measured = (e: PhaseEvidence, id: CheckId) => rec(e, id).measured as Record<string, unknown>;

describe('Go/No-Go gate: the healthy fixture', () => {
  it('GO when every check of the catalogue is present, passed and met, on fresh evidence of the running build', () => {
    const { g } = gate();
    expect(g.completeness.reason).toBe('met');
    expect(g.decision).toBe('GO');
    expect(g.conditions.map((c) => c.verdict)).toEqual(Array(7).fill('GO'));
    expect(g.deploySha).toBe(running);
  });

  const blocking = catalogue.filter((e) => e.kind === 'blocking' && e.phase !== 'rollback');
  it.each(blocking.map((e) => [e.id, e.phase]))(
    'without its %s record (%s) the gate holds and names it',
    (id, phase) => {
      const { g } = gate((e) => {
        const p = e[phase as Phases];
        p.checks = p.checks.filter((c) => c.id !== id);
      });
      expect(g.decision).toBe('HOLD');
      expect(JSON.stringify([g.completeness.reason, ...g.conditions.map((c) => c.reason)])).toContain(
        `${id} is missing`,
      );
    },
  );

  it("Rex's page and the status post give every result, advisory ones included, in words: no JSON", () => {
    const { g } = gate((e) => {
      Object.assign(rec(e.smoke, 'smoke.10').measured!, { days_left: 12.3456 });
      rec(e.smoke, 'smoke.7').measured = { http: 503, status: 'down', extra: { nested: [1, 2] } };
    });
    const page = gateHtml(g, '/r');
    const post = gateMarkdown(g);
    for (const a of g.advisories) expect(a.measured).not.toMatch(/[{}"]|\[/);
    expect(page).toMatch(
      /≈ 12.35 days left \(until 2027-06-01T00:00:00.000Z\); RSA key of 2048 bits; for server authentication/,
    );
    expect(post).toMatch(/Smoke 7 .*: fail HTTP 503, status down/);
    expect(page + post).not.toMatch(/measured \{|\{"/);
    expect(page).toMatch(/≈ marks a number rounded for display/);
  });

  it("Rex's page and the status post name both API addresses the decision stands on", () => {
    const g = { ...gate().g, identity };
    const both = 'API addresses: public https://api.buywhere.ai, local http://localhost:8000';
    expect(gateHtml(g, '/r')).toContain(both);
    expect(gateMarkdown(g)).toContain(both);
  });

  it('every example in the catalogue meets its own rule, so the fixture is a real pass', () => {
    const { g } = gate();
    expect(g.advisories.every((a) => a.status === 'pass')).toBe(true);
  });
});

describe('Go/No-Go gate: conditions', () => {
  it.each([
    [1, 'smoke', 'smoke.1', 'HOLD — page Bolt'],
    [2, 'smoke', 'smoke.2', 'HOLD — page Bolt'],
    [3, 'smoke', 'smoke.4', 'HOLD — page Bolt'],
    [4, 'smoke', 'smoke.6', 'HOLD — page Sol/Link'],
    [5, 'preflight', 'preflight.1.5', 'HOLD — run backup first'],
    [6, 'preflight', 'preflight.1.4', 'HOLD — emergency cleanup'],
    [7, 'smoke', 'smoke.9', 'HOLD — investigate warm-up'],
  ] as const)('condition %i fails: HOLD with its action', (n, phase, id, action) => {
    const { g } = gate((e) => (rec(e[phase], id).status = 'fail'));
    expect(g.decision).toBe('HOLD');
    expect(g.conditions[n - 1]).toMatchObject({ verdict: 'HOLD', outcome: 'fail', action });
  });

  it.each(['error', 'skipped', 'not-run'] as const)('a check that %s is HOLD (could not run), never GO', (status) => {
    const { g } = gate((e) => (rec(e.smoke, 'smoke.6').status = status));
    expect(g.conditions[3]).toMatchObject({ verdict: 'HOLD', outcome: 'could-not-run' });
  });

  it('a preflight 1.3 skipped (the stack was not running, or Docker did not answer) is HOLD', () => {
    const { g } = gate((e) => (rec(e.preflight, 'preflight.1.3.replica').status = 'skipped'));
    expect(g.decision).toBe('HOLD');
    expect(g.completeness.reason).toMatch(/preflight.1.3.replica skipped/);
  });

  it('any other failing blocking check holds (runbook §3: all must pass)', () => {
    const { g } = gate((e) => (rec(e.smoke, 'smoke.8').status = 'fail'));
    expect(g.decision).toBe('HOLD');
    expect(g.completeness.reason).toMatch(/smoke.8 failed/);
  });

  it('an MCP failure alone still gives GO, with a visible warning', () => {
    const { g } = gate((e) => {
      rec(e.smoke, 'smoke.7').status = 'fail';
      rec(e.smoke, 'smoke.7').message = 'MCP down';
    });
    expect(g.decision).toBe('GO');
    expect(g.advisories.find((a) => a.title.startsWith('Smoke 7'))?.status).toBe('fail');
    expect(gateMarkdown(g)).toMatch(/⚠️ Smoke 7/);
  });
});

describe('Go/No-Go gate: re-derived from the measurements, never from "status"', () => {
  it.each([
    ['preflight', 'preflight.1.4', { used_pct: 97 }, /used space .* is 97%, expected < 85%/],
    ['preflight', 'preflight.1.4', { used_pct: 85 }, /expected < 85%/],
    ['preflight', 'preflight.1.5', { age_h: -3 }, /in the future/],
    ['preflight', 'preflight.1.5', { age_h: '2' }, /no backup age/],
    ['smoke', 'smoke.2', { db_response_ms: 500 }, /db_response_ms is 500 ms, expected < 500 ms/],
    ['smoke', 'smoke.2', { db_response_ms: '3' }, /not a number/],
    ['smoke', 'smoke.6', { final: 'https://www.amazon.com.evil.example/dp/x?tag=buywhere-20' }, /not amazon.com/],
    ['smoke', 'smoke.9', { samples_ms: Array(p99MinSamples - 1).fill(5) }, new RegExp(`${p99MinSamples - 1} samples`)],
    ['smoke', 'smoke.9', { samples_ms: [...Array(p99MinSamples - 2).fill(5), 2000, 2000] }, /p99 is 2000 ms/],
    ['smoke', 'smoke.8', { total_active_products: 1_000_000 }, /expected > 1,000,000/],
  ] as const)('%s %s recorded "pass" with %j is HOLD', (phase, id, change, why) => {
    const { g } = gate((e) => Object.assign(measured(e[phase], id), change));
    expect(g.decision).toBe('HOLD');
    expect(JSON.stringify([g.completeness.reason, ...g.conditions.map((c) => c.reason)])).toMatch(why);
  });

  it('the edges that meet the rule pass: disk 84.9%, db 499 ms, backup 23.9 h on fresh evidence', () => {
    const { g } = gate((e) => {
      measured(e.preflight, 'preflight.1.4').used_pct = 84.9;
      measured(e.smoke, 'smoke.2').db_response_ms = 499;
      measured(e.preflight, 'preflight.1.5').age_h = 23.9;
      e.preflight.finishedAt = now.toISOString();
    });
    expect(g.completeness.reason).toBe('met');
    expect(g.decision).toBe('GO');
  });

  it('a backup 23.9 h old at preflight is too old by the time of the gate', () => {
    const { g } = gate((e) => (measured(e.preflight, 'preflight.1.5').age_h = 23.99));
    expect(g.conditions[4]).toMatchObject({ verdict: 'HOLD', reason: expect.stringMatching(/by now/) });
  });

  it('a backup dated in the future within the clock skew is fine; beyond it, HOLD', () => {
    const skewH = clockSkewMs / 3_600_000;
    expect(gate((e) => (measured(e.preflight, 'preflight.1.5').age_h = -skewH / 2)).g.conditions[4]!.verdict).toBe(
      'GO',
    );
    expect(gate((e) => (measured(e.preflight, 'preflight.1.5').age_h = -skewH * 2)).g.conditions[4]!.verdict).toBe(
      'HOLD',
    );
  });

  it('"advisory": true written on a blocking check changes nothing: it still blocks', () => {
    const { g } = gate((e) => Object.assign(rec(e.smoke, 'smoke.6'), { advisory: true, status: 'fail' }));
    expect(g.decision).toBe('HOLD');
    expect(g.conditions[3]!.verdict).toBe('HOLD');
  });

  it('a check recorded twice, pass then fail, is HOLD naming it', () => {
    const { g } = gate((e) => e.smoke.checks.push({ ...rec(e.smoke, 'smoke.6'), status: 'fail' }));
    expect(g.decision).toBe('HOLD');
    expect(g.conditions[3]!.reason).toMatch(/smoke.6 is recorded more than once/);
  });

  it('an unknown check id is HOLD naming it', () => {
    const { g } = gate((e) => e.smoke.checks.push({ id: 'smoke.99', title: 'x', status: 'pass', at: at(2) }));
    expect(g.decision).toBe('HOLD');
    expect(g.completeness.reason).toMatch(/smoke.99 is not a smoke check/);
  });

  it.each([null, 42, 'pass', [], { id: 'smoke.1' }, { id: 'smoke.1', status: 'great', at: at(1) }])(
    'a malformed record (%j) is HOLD, never a crash',
    (bad) => {
      const { g, dir } = gate((e) => (e.smoke.checks as unknown[]).push(bad));
      expect(g.decision).toBe('HOLD');
      expect(g.completeness.reason).toMatch(/malformed/);
      writeGateArtefacts(g, dir, []);
      for (const f of ['gonogo.junit.xml', 'gonogo.html', 'gonogo.md'])
        expect(readFileSync(join(dir, f), 'utf8')).toMatch(/HOLD/);
    },
  );

  it.each(['null', '[]', '"x"', '{"phase":"smoke","checks":{"0":1}}', '{"phase":"smo'])(
    'evidence that is %s is HOLD, never a crash',
    (text) => {
      const { dir } = gate();
      writeFileSync(evidencePath(dir, 'smoke'), text);
      const g = gateDecision({
        reportsDir: dir,
        target: 'production',
        identity,
        settings,
        now,
        maxAgeMin: 30,
        sealKey,
      });
      expect(g.decision).toBe('HOLD');
    },
  );
});

describe('Go/No-Go gate: whole, fresh evidence', () => {
  it('a partial run (a file filter, -t, .only, --bail) is never evidence', () => {
    const { g } = gate((e) => {
      e.preflight.partial = ['a file filter: ran 2 of 6 spec files'];
      e.preflight.checks = e.preflight.checks.filter((c) => c.id === 'preflight.1.4' || c.id === 'preflight.1.5');
    });
    expect(g.decision).toBe('HOLD');
    expect(g.conditions[5]!.reason).toMatch(/partial.*file filter/);
  });

  it('stale evidence is HOLD; deploy evidence of the running build counts however old', () => {
    expect(gate((e) => (e.smoke.finishedAt = at(45))).g.conditions[0]!.reason).toMatch(/45 min old/);
    expect(gate((e) => ((e.deploy.startedAt = at(600)), (e.deploy.finishedAt = at(590)))).g.decision).toBe('GO');
  });

  it('evidence or a record dated in the future beyond the clock skew is HOLD', () => {
    expect(
      gate((e) => (e.smoke.finishedAt = new Date(now.getTime() + 2 * clockSkewMs).toISOString())).g.conditions[0]!
        .reason,
    ).toMatch(/in the future/);
    expect(
      gate((e) => (rec(e.smoke, 'smoke.1').at = new Date(now.getTime() + 2 * clockSkewMs).toISOString())).g.decision,
    ).toBe('HOLD');
  });

  it('missing evidence is HOLD', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-'));
    const g = evaluateGate({ reportsDir: dir, target: 'production', identity, settings, now, maxAgeMin: 30, sealKey });
    expect(g.decision).toBe('HOLD');
    expect(g.conditions.every((c) => c.outcome === 'could-not-run')).toBe(true);
    expect(g.completeness.reason).toMatch(/no deploy or rollback evidence/);
  });
});

describe('Go/No-Go gate: sealed evidence', () => {
  const decideWith = (dir: string, key = sealKey) =>
    evaluateGate({ reportsDir: dir, target: 'production', identity, settings, now, maxAgeMin: 30, sealKey: key });
  const all = (g: ReturnType<typeof evaluateGate>) =>
    [g.completeness.reason, ...g.conditions.map((c) => c.reason)].join('\n');

  it('a measured value edited after the run, to one that still meets its rule, is HOLD naming the file', () => {
    const { dir } = gate();
    const path = evidencePath(dir, 'smoke');
    const e = JSON.parse(readFileSync(path, 'utf8')) as PhaseEvidence;
    (rec(e, 'smoke.2').measured as { db_response_ms: number }).db_response_ms = 2;
    writeFileSync(path, JSON.stringify(e, null, 2));
    const g = decideWith(dir);
    expect(g.decision).toBe('HOLD');
    expect(g.conditions[1]!.reason).toMatch(/smoke evidence is not as its run wrote it: its seal does not match/);
    expect(g.conditions[1]!.reason).toMatch(/rerun `npm run smoke`/);
  });

  it('evidence sealed on another host (another key) is HOLD; the same files under their own key are GO', () => {
    const other = join(mkdtempSync(join(tmpdir(), 'gate-key-')), 'evidence.key');
    const dir = mkdtempSync(join(tmpdir(), 'gate-'));
    const e = healthy();
    for (const p of Object.values(e)) writeEvidence(dir, p, other);
    expect(decideWith(dir).decision).toBe('HOLD');
    expect(all(decideWith(dir))).toMatch(/deploy evidence is not as its run wrote it/);
    expect(decideWith(dir, ensureSealKey(other)).decision).toBe('GO');
  });

  it('without its key the gate cannot verify anything: HOLD, saying where the key should be', () => {
    const { dir } = gate();
    const g = decideWith(dir, readSealKey(join(tmpdir(), 'no-such-dir', 'evidence.key')));
    expect(g.decision).toBe('HOLD');
    expect(all(g)).toMatch(/cannot be verified: no evidence key at .*no-such-dir/);
  });

  it('a run that could not seal says why, and the gate holds on that reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-'));
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, '');
    write(dir, { deploy: healthy().deploy, preflight: healthy().preflight });
    writeEvidence(dir, healthy().smoke, join(blocker, 'evidence.key'));
    const g = decideWith(dir);
    expect(g.decision).toBe('HOLD');
    expect(g.conditions[0]!.reason).toMatch(/its run could not seal it: the evidence key .* cannot be created/);
  });
});

describe("Go/No-Go gate: only the last run's evidence counts", () => {
  const decideWith = (dir: string) =>
    evaluateGate({ reportsDir: dir, target: 'production', identity, settings, now, maxAgeMin: 30, sealKey });
  const smokeOf = (g: ReturnType<typeof evaluateGate>) => g.conditions[0]!.reason;

  it('a passing smoke file put back after a later smoke failed is HOLD, though its seal is good', () => {
    const { dir } = gate();
    const passing = readFileSync(evidencePath(dir, 'smoke'), 'utf8');
    const e = healthy();
    e.smoke.startedAt = at(2.5);
    rec(e.smoke, 'smoke.6').status = 'fail';
    writeEvidence(dir, e.smoke, keyFile);
    expect(decideWith(dir).decision).toBe('HOLD');
    writeFileSync(evidencePath(dir, 'smoke'), passing);
    const g = decideWith(dir);
    expect(g.decision).toBe('HOLD');
    expect(smokeOf(g)).toMatch(
      /smoke evidence is not the last run's: it is not the last smoke run's: that run started .*, this file's run .*; an earlier file was put back; rerun `npm run smoke`/,
    );
  });

  it('a file put back after a run that started and wrote nothing (killed) is HOLD', () => {
    const { dir } = gate();
    const passing = readFileSync(evidencePath(dir, 'smoke'), 'utf8');
    forgetEvidence(dir, 'smoke', at(1), keyFile);
    writeFileSync(evidencePath(dir, 'smoke'), passing);
    const g = decideWith(dir);
    expect(g.decision).toBe('HOLD');
    expect(smokeOf(g)).toMatch(/the last smoke run, started .*, wrote no evidence \(stopped, or still running\)/);
  });

  it('sealed files copied into another folder are HOLD; in the folder their runs wrote to they are GO', () => {
    const { dir } = gate();
    const elsewhere = mkdtempSync(join(tmpdir(), 'gate-'));
    mkdirSync(join(elsewhere, 'evidence'));
    for (const p of ['preflight', 'deploy', 'smoke'] as const)
      copyFileSync(evidencePath(dir, p), evidencePath(elsewhere, p));
    const g = decideWith(elsewhere);
    expect(g.decision).toBe('HOLD');
    expect(smokeOf(g)).toMatch(/no smoke run on this host is recorded as writing to .*: it was copied here/);
    expect(g.completeness.reason).toMatch(/deploy evidence is not the last run's/);
    expect(decideWith(dir).decision).toBe('GO');
  });

  it('the same folder reached through a symlink is the same folder', () => {
    const { dir } = gate();
    const link = join(mkdtempSync(join(tmpdir(), 'gate-link-')), 'reports');
    symlinkSync(dir, link);
    expect(decideWith(link).decision).toBe('GO');
  });
});

describe('Go/No-Go gate: a phase that could not start', () => {
  it('is HOLD naming its configuration error, not the identity it never measured', () => {
    const { g } = gate((e) => {
      e.smoke = {
        ...e.smoke,
        outcome: 'configuration error: RUNBOOK_API_URL: expected an https URL',
        identity: undefined,
        checks: [{ id: 'smoke.config', title: 'smoke: configuration', status: 'error', message: 'x', at: at(2) }],
      };
    });
    expect(g.decision).toBe('HOLD');
    expect(g.conditions[0]!.reason).toMatch(
      /the smoke run could not start \(configuration error: RUNBOOK_API_URL: expected an https URL\): fix it and rerun `npm run smoke`/,
    );
    expect(g.conditions[0]!.reason).not.toMatch(/probed something else/);
  });
});

describe('Go/No-Go gate: identity', () => {
  it('evidence from another target is HOLD', () => {
    expect(gate((e) => (e.smoke.target = 'staging')).g.conditions[0]!.reason).toMatch(/from target staging/);
  });

  it.each([
    ['apiOrigin', 'https://127.0.0.1:9443'],
    ['mcpOrigin', 'http://127.0.0.1:1'],
    ['caFingerprint', 'sha256:00'],
    ['projectDir', '/tmp/other'],
    ['diskPath', '/tmp'],
    ['backupsDir', '/tmp/backups'],
  ] as const)('evidence that probed another %s is HOLD naming the difference', (field, value) => {
    const phase = ['apiOrigin', 'mcpOrigin', 'caFingerprint'].includes(field) ? 'smoke' : 'preflight';
    const { g } = gate((e) => ((e[phase].identity as unknown as Record<string, string>)[field] = value));
    expect(g.decision).toBe('HOLD');
    expect(g.conditions[phase === 'smoke' ? 0 : 4]!.reason).toContain(`${field}: measured "${value}"`);
  });

  it('a deploy against another API is HOLD; its MCP origin does not matter (its MCP check is advisory)', () => {
    expect(gate((e) => (e.deploy.identity!.apiOrigin = 'https://127.0.0.1:9443')).g.completeness.reason).toMatch(
      /deploy evidence probed something else: apiOrigin/,
    );
    expect(gate((e) => (e.deploy.identity!.mcpOrigin = 'http://127.0.0.1:1')).g.decision).toBe('GO');
  });

  it('smoke evidence of another build than the running one is HOLD', () => {
    const { g } = gate((e) => (e.smoke.identity!.build = 'fff0000'));
    expect(g.conditions[0]!.reason).toMatch(/smoke measured build fff0000, but abc1234 is running/);
  });

  it('an API whose /health names another build than Docker runs is HOLD', () => {
    const { g } = gate((e) => (measured(e.smoke, 'smoke.1').build = 'fff0000'));
    expect(g.conditions[0]!.reason).toMatch(/says it is build fff0000/);
  });

  it('short and full SHAs of the running build agree', () => {
    expect(gate((e) => (e.smoke.identity!.build = `${running}0123456789`)).g.decision).toBe('GO');
  });

  it('an unknown running build is HOLD', () => {
    const { g } = gate(undefined, { identity: { build: 'unknown', buildProblem: 'Docker did not answer' } });
    expect(g.decision).toBe('HOLD');
    expect(g.completeness.reason).toMatch(/running build is unknown: Docker did not answer/);
  });

  it('preflight run before the deploy names the build it was about to deploy: accepted', () => {
    const { g } = gate((e) => (e.preflight.identity!.build = 'fff0000'));
    expect(g.decision).toBe('GO');
  });

  it('preflight of neither the deployed nor the running build is HOLD', () => {
    const { g } = gate((e) => ((e.preflight.identity!.build = 'fff0000'), (e.preflight.deploySha = 'eee0000')));
    expect(g.conditions[4]!.reason).toMatch(/preflight checked build eee0000/);
  });
});

describe('Go/No-Go gate: the last deploy or rollback', () => {
  it('no deploy evidence is HOLD', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-'));
    const e = healthy();
    write(dir, { preflight: e.preflight, smoke: e.smoke });
    const g = evaluateGate({ reportsDir: dir, target: 'production', identity, settings, now, maxAgeMin: 30, sealKey });
    expect(g.decision).toBe('HOLD');
    expect(g.completeness.reason).toMatch(/no deploy or rollback evidence for the running build abc1234/);
  });

  it('a deploy that started and never finished (killed) is HOLD', () => {
    const { g } = gate(
      (e) => ((e.deploy.outcome = 'started'), (e.deploy.checks = []), (e.deploy.deploySha = 'unknown')),
    );
    expect(g.completeness.reason).toMatch(/a deploy started at .* and never finished/);
  });

  it('a deploy of another build than the running one is HOLD', () => {
    const { g } = gate((e) => (e.deploy.deploySha = 'fff0000'));
    expect(g.completeness.reason).toMatch(/the last deploy .* put build fff0000 in place, but abc1234 is running/);
  });

  it('smoke that started before the deploy finished is HOLD; smoke started the moment it finished is GO', () => {
    const early = gate((e) => (e.smoke.startedAt = new Date(Date.parse(e.deploy.finishedAt) - 1).toISOString()));
    expect(early.g.decision).toBe('HOLD');
    expect(early.g.conditions[0]!.reason).toMatch(
      /smoke started .*, before the last deploy finished .*: it measured what ran before it; rerun `npm run smoke`/,
    );
    expect(gate((e) => (e.smoke.startedAt = e.deploy.finishedAt)).g.decision).toBe('GO');
  });

  it('a failed deploy step is HOLD', () => {
    const { g } = gate((e) => (rec(e.deploy, 'deploy.4.migrate').status = 'fail'));
    expect(g.completeness.reason).toMatch(/deploy.4.migrate failed/);
  });

  it('a finished rollback replaces the deploy evidence: GO for the build it restored, HOLD for the one it left', () => {
    const rollback = (build: string): PhaseEvidence => ({
      phase: 'rollback',
      target: 'production',
      deploySha: build,
      startedAt: at(4.5),
      finishedAt: at(3.5),
      outcome: 'passed',
      identity: { ...identity, build },
      checks: checksOf('rollback')
        .filter((c) => c.kind === 'blocking')
        .map((c) => ({
          id: c.id,
          title: c.title,
          status: 'pass' as const,
          measured: structuredClone(c.example),
          at: at(3.5),
        })),
    });
    const { dir } = gate(
      (e) => ((e.deploy.deploySha = 'fff0000'), (e.deploy.identity!.build = 'fff0000'), (e.deploy.startedAt = at(20))),
    );
    writeEvidence(dir, rollback(running), keyFile);
    expect(
      evaluateGate({ reportsDir: dir, target: 'production', identity, settings, now, maxAgeMin: 30, sealKey }).decision,
    ).toBe('GO');
    // A smoke that started before the rollback finished measured what ran before it.
    writeEvidence(dir, { ...rollback(running), finishedAt: at(2.5) }, keyFile);
    expect(
      evaluateGate({ reportsDir: dir, target: 'production', identity, settings, now, maxAgeMin: 30, sealKey })
        .conditions[0]!.reason,
    ).toMatch(/smoke started .*, before the last rollback finished .*: it measured what ran before it/);
    writeEvidence(dir, { ...rollback(running), outcome: 'started', checks: [] }, keyFile);
    expect(
      evaluateGate({ reportsDir: dir, target: 'production', identity, settings, now, maxAgeMin: 30, sealKey })
        .completeness.reason,
    ).toMatch(/a rollback started .* never finished/);
  });
});

describe('Go/No-Go artefacts', () => {
  it('JUnit: failures and errors kept apart, decision as a property, valid against the Jenkins xUnit schema', () => {
    const { g } = gate((e) => {
      rec(e.smoke, 'smoke.6').status = 'fail';
      rec(e.smoke, 'smoke.1').status = 'not-run';
    });
    const xml = gateJunit(g);
    expect(xml).toContain('name="decision" value="HOLD"');
    expect(xml).toMatch(/<failure[^>]*HOLD — page Sol\/Link/);
    expect(xml).toMatch(/<error /);
    const dir = mkdtempSync(join(tmpdir(), 'xsd-'));
    writeFileSync(join(dir, 'g.xml'), xml);
    const schema = join(__dirname, '..', 'test', 'fixtures', 'jenkins-xunit-junit-10.xsd');
    execFileSync('xmllint', ['--noout', '--schema', schema, join(dir, 'g.xml')], { stdio: 'pipe' });
  });

  it('settings that differ from the defaults are shown in all three, and nothing is shown when none do', () => {
    const overrides = [
      { env: 'RUNBOOK_DEPLOY_BRANCH', value: 'release' },
      { env: 'RUNBOOK_EVIDENCE_MAX_AGE_MIN', value: '90' },
    ];
    const g = { ...gate().g, overrides };
    expect(gateHtml(g, '/r')).toMatch(
      /<p id="overrides">Decided with settings that differ from the runbook's defaults: <code>RUNBOOK_DEPLOY_BRANCH=release<\/code>, <code>RUNBOOK_EVIDENCE_MAX_AGE_MIN=90<\/code><\/p>/,
    );
    expect(gateMarkdown(g)).toContain(
      "Settings that differ from the runbook's defaults: RUNBOOK_DEPLOY_BRANCH=release, RUNBOOK_EVIDENCE_MAX_AGE_MIN=90",
    );
    expect(gateJunit(g)).toContain(
      'name="overrides" value="RUNBOOK_DEPLOY_BRANCH=release, RUNBOOK_EVIDENCE_MAX_AGE_MIN=90"',
    );
    const none = { ...gate().g, overrides: [] };
    expect(gateHtml(none, '/r')).not.toContain('id="overrides"');
    expect(gateMarkdown(none)).not.toContain('differ from');
    expect(gateJunit(none)).not.toContain('name="overrides"');
  });

  it('HTML escapes what it shows', () => {
    const { g, dir } = gate((e) => (rec(e.smoke, 'smoke.6').status = 'fail'));
    g.conditions[3]!.reason = '<script>alert(1)</script>';
    const html = gateHtml(g, dir);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it('the threshold column comes from the catalogue', () => {
    const { g } = gate();
    expect(g.conditions[5]!.threshold).toBe('< 85%');
    expect(g.conditions[4]!.threshold).toBe(`< ${entry('preflight.1.5').threshold!.value} h`);
  });
});

describe('Go/No-Go artefacts for a person', () => {
  it('times are in the runbook zone, EST or EDT, with UTC alongside', () => {
    expect(runbookTime('2026-11-28T12:12:00Z')).toBe('Sat 28 Nov 07:12 EST (12:12 UTC)');
    expect(runbookTime('2026-07-04T13:00:00Z')).toBe('Sat 4 Jul 09:00 EDT (13:00 UTC)');
  });

  it('the summary line counts the conditions and names each HOLD with how it held', () => {
    expect(summaryLine(gate().g)).toBe('8 of 8 GO');
    const { g } = gate((e) => {
      rec(e.smoke, 'smoke.6').status = 'fail';
      rec(e.smoke, 'smoke.9').status = 'error';
    });
    expect(summaryLine(g)).toBe('HOLD: 2 of 8 — Affiliate redirects (failed), P99 latency (could not check)');
    expect(gateMarkdown(g)).toContain(summaryLine(g));
  });

  it('a GO says until when it holds: the first evidence window to close', () => {
    const { g } = gate();
    expect(Date.parse(g.validUntil!)).toBeGreaterThan(Date.parse(g.decidedAt));
    expect(gateHtml(g, '/tmp')).toContain(`data-until="${g.validUntil}"`);
  });

  it('measured values are written for a person, and staging is marked as not production', () => {
    const { g, dir } = gate();
    expect(g.conditions[5]!.measured).toMatch(/^disk \d+(\.\d+)? % of \//);
    expect(g.conditions[6]!.measured).toMatch(/^p99 \d+ ms over \d+ searches \(runbook: [\d /]+ ms\)$/);
    const html = gateHtml({ ...g, target: 'staging' }, dir);
    expect(html).toContain('<div id="env"><span>STAGING — not production</span></div>');
    expect(gateHtml({ ...g, target: 'production' }, dir)).not.toContain('id="env"');
  });
});
