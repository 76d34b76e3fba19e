import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeEvidence, type CheckRecord, type PhaseEvidence } from '../lib/evidence';
import { gateHtml, gateJunit, gateMarkdown } from './artefacts';
import { evaluateGate } from './gate';

const now = new Date('2026-04-23T12:25:00Z');
const at = (minAgo: number) => new Date(now.getTime() - minAgo * 60_000).toISOString();
const rec = (id: string, measured: unknown, over: Partial<CheckRecord> = {}): CheckRecord => ({ id, title: id, status: 'pass', measured, at: at(1), ...over });

function healthy(): Record<'preflight' | 'smoke', PhaseEvidence> {
  const ev = (phase: 'preflight' | 'smoke', checks: CheckRecord[]): PhaseEvidence => ({ phase, target: 'staging', deploySha: 'abc1234', startedAt: at(3), finishedAt: at(2), outcome: 'passed', checks });
  return {
    preflight: ev('preflight', [rec('preflight.1.1', {}), rec('preflight.1.4', 40, { unit: '%' }), rec('preflight.1.5', 2, { unit: 'h' })]),
    smoke: ev('smoke', [
      rec('smoke.1', {}), rec('smoke.2', {}), rec('smoke.3', {}), rec('smoke.4', {}), rec('smoke.5', {}), rec('smoke.6', {}),
      rec('smoke.7', {}, { advisory: true }), rec('smoke.8', 1000001), rec('smoke.9', { p99_ms: 120 }), rec('smoke.10', 200, { advisory: true }),
    ]),
  };
}

function gate(mutate: (e: ReturnType<typeof healthy>) => void = () => {}, opts: { deploySha?: string; target?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gate-'));
  const e = healthy();
  mutate(e);
  writeEvidence(dir, e.preflight);
  writeEvidence(dir, e.smoke);
  return { dir, g: evaluateGate({ reportsDir: dir, target: opts.target ?? 'staging', deploySha: opts.deploySha ?? 'abc1234', now, maxAgeMin: 30 }) };
}
const find = (e: PhaseEvidence, id: string) => e.checks.find((c) => c.id === id)!;

describe('Go/No-Go gate', () => {
  it('GO when every condition is met on fresh evidence of this SHA', () => {
    const { g } = gate();
    expect(g.decision).toBe('GO');
    expect(g.conditions.map((c) => c.verdict)).toEqual(Array(7).fill('GO'));
  });

  it.each([
    [1, 'smoke', 'smoke.1', 'HOLD — page Bolt'],
    [2, 'smoke', 'smoke.2', 'HOLD — page Bolt'],
    [3, 'smoke', 'smoke.4', 'HOLD — page Bolt'],
    [4, 'smoke', 'smoke.6', 'HOLD — page Sol/Link'],
    [5, 'preflight', 'preflight.1.5', 'HOLD — run backup first'],
    [6, 'preflight', 'preflight.1.4', 'HOLD — emergency cleanup'],
    [7, 'smoke', 'smoke.9', 'HOLD — investigate warm-up'],
  ] as const)('condition %i fails: HOLD with its action', (n, phase, id, action) => {
    const { g } = gate((e) => (find(e[phase], id).status = 'fail'));
    expect(g.decision).toBe('HOLD');
    expect(g.conditions[n - 1]).toMatchObject({ verdict: 'HOLD', outcome: 'fail', action });
  });

  it.each(['error', 'skipped', 'not-run'] as const)('a check that %s is HOLD (could not run), never GO', (status) => {
    const { g } = gate((e) => (find(e.smoke, 'smoke.6').status = status));
    expect(g.conditions[3]).toMatchObject({ verdict: 'HOLD', outcome: 'could-not-run' });
  });

  it('stale evidence is HOLD', () => {
    const { g } = gate((e) => (e.smoke.finishedAt = at(45)));
    expect(g.decision).toBe('HOLD');
    expect(g.conditions[0]!.reason).toMatch(/45 min old/);
  });

  it('evidence from another DEPLOY_SHA or another target is HOLD', () => {
    expect(gate(undefined, { deploySha: 'fff0000' }).g.conditions[0]!.reason).toMatch(/DEPLOY_SHA abc1234, not fff0000/);
    expect(gate(undefined, { target: 'production' }).g.decision).toBe('HOLD');
  });

  it('deploy evidence of this SHA counts however old; preflight and smoke must be fresh', () => {
    const { dir } = gate();
    writeEvidence(dir, { phase: 'deploy', target: 'staging', deploySha: 'abc1234', startedAt: at(95), finishedAt: at(90), outcome: 'passed', checks: [rec('deploy.8', {})] });
    expect(evaluateGate({ reportsDir: dir, target: 'staging', deploySha: 'abc1234', now, maxAgeMin: 30 }).decision).toBe('GO');
    writeEvidence(dir, { phase: 'deploy', target: 'staging', deploySha: 'abc1234', startedAt: at(95), finishedAt: at(90), outcome: 'failed', checks: [rec('deploy.4.migrate', {}, { status: 'fail' })] });
    expect(evaluateGate({ reportsDir: dir, target: 'staging', deploySha: 'abc1234', now, maxAgeMin: 30 }).completeness.reason).toMatch(/deploy.4.migrate: fail/);
  });

  it('missing evidence is HOLD', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-'));
    const g = evaluateGate({ reportsDir: dir, target: 'staging', deploySha: 'abc1234', now, maxAgeMin: 30 });
    expect(g.decision).toBe('HOLD');
    expect(g.conditions.every((c) => c.outcome === 'could-not-run')).toBe(true);
  });

  it('unreadable evidence is HOLD', () => {
    const { dir } = gate();
    writeFileSync(join(dir, 'evidence', 'smoke.json'), '{"phase":"smo');
    expect(evaluateGate({ reportsDir: dir, target: 'staging', deploySha: 'abc1234', now, maxAgeMin: 30 }).decision).toBe('HOLD');
  });

  it('a pass without a p99 under 2 s is still HOLD', () => {
    expect(gate((e) => (find(e.smoke, 'smoke.9').measured = { p99_ms: 2500 })).g.conditions[6]!.verdict).toBe('HOLD');
    expect(gate((e) => (find(e.smoke, 'smoke.9').measured = undefined)).g.conditions[6]!.verdict).toBe('HOLD');
  });

  it('a backup that was 23.9 h old at preflight is too old by now', () => {
    expect(gate((e) => (find(e.preflight, 'preflight.1.5').measured = 23.99)).g.conditions[4]!.verdict).toBe('HOLD');
  });

  it('an MCP failure alone still gives GO, with a visible warning', () => {
    const { g } = gate((e) => (find(e.smoke, 'smoke.7').status = 'fail'));
    expect(g.decision).toBe('GO');
    expect(g.advisories.find((a) => a.title === 'smoke.7')?.status).toBe('fail');
    expect(gateMarkdown(g)).toMatch(/⚠️ smoke.7: fail/);
  });

  it('any other failing smoke test holds (runbook §3: all must pass)', () => {
    const { g } = gate((e) => (find(e.smoke, 'smoke.8').status = 'fail'));
    expect(g.decision).toBe('HOLD');
    expect(g.completeness.reason).toMatch(/smoke.8/);
  });

  it('JUnit: failures and errors kept apart, decision as a property, valid against the Jenkins xUnit schema', () => {
    const { g } = gate((e) => {
      find(e.smoke, 'smoke.6').status = 'fail';
      find(e.smoke, 'smoke.1').status = 'not-run';
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

  it('HTML escapes what it shows', () => {
    const { g, dir } = gate((e) => (find(e.smoke, 'smoke.6').status = 'fail'));
    g.conditions[3]!.reason = '<script>alert(1)</script>';
    expect(gateHtml(g, dir)).not.toContain('<script>');
  });
});
