import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PhaseEvidence } from './evidence';
import { phaseJunit } from './junit';

const evidence: PhaseEvidence = {
  phase: 'smoke',
  target: 'staging',
  deploySha: 'abc1234',
  startedAt: '2026-11-28T12:00:00.000Z',
  finishedAt: '2026-11-28T12:00:12.500Z',
  outcome: 'failed',
  checks: [
    { id: 'smoke.1', title: 'Smoke 1 — health', status: 'pass', measured: { http: 200 }, durationMs: 40, at: '' },
    {
      id: 'smoke.6',
      title: 'Smoke 6 — affiliate redirect',
      status: 'fail',
      message: 'found: tag missing',
      action: 'HOLD — page Sol/Link',
      at: '',
    },
    { id: 'smoke.9', title: 'Smoke 9 — p99', status: 'error', message: 'connect ECONNREFUSED 127.0.0.1:8443', at: '' },
    { id: 'smoke.10', title: 'Smoke 10 — TLS', status: 'not-run', message: 'never ran', at: '' },
  ],
};

describe('phase JUnit', () => {
  it('names cases by the runbook number and title, the same on every run; what the run put in a title goes to system-out', () => {
    const run = (title: string, file: string) =>
      phaseJunit({
        ...evidence,
        checks: [{ id: 'deploy.2.tag', title, status: 'pass', at: '', file }],
      });
    const a = run('Step 2 — tag: sha-abc1234', 'deploy/deploy.spec.ts');
    const b = run('Step 2 — tag: sha-def5678', 'deploy/deploy.spec.ts');
    const names = (x: string) => [...x.matchAll(/<testcase [^\n]*name="([^"]*)"/g)].map((m) => m[1]);
    expect(names(a)).toEqual(names(b));
    expect(names(a)[0]).toMatch(/^Step 2 — /);
    expect(names(a)[0]).not.toMatch(/abc1234/);
    expect(a).toMatch(/as run: Step 2 — tag: sha-abc1234/);
    expect(a).toMatch(/<testsuite file="deploy\/deploy.spec.ts"/);
  });

  const xml = phaseJunit(evidence);

  it('gives the suite its time and every case a time', () => {
    expect(xml).toMatch(/<testsuites time="12.5"/);
    expect(xml).toMatch(/<testsuite [^\n]*time="12.5"/);
    expect(xml.match(/<testcase [^\n]*time="/g)).toHaveLength(4);
  });

  it('puts the failure and the error text in the element body, not only in an attribute', () => {
    expect(xml).toMatch(
      /<failure [^>]*type="failure"[^>]*><!\[CDATA\[[^\]]*found: tag missing\n {2}action: {3}HOLD — page Sol\/Link]]>/,
    );
    expect(xml).toMatch(/<error [^>]*type="could-not-check"[^>]*><!\[CDATA\[[^\]]*ECONNREFUSED/);
    // A message that already ends with the action does not get it twice.
    const said = phaseJunit({
      ...evidence,
      checks: [{ ...evidence.checks[1]!, message: 'x\n  found:    y\n  action:   HOLD — page Sol/Link' }],
    });
    expect(said.match(/action: {3}HOLD — page Sol\/Link/g)).toHaveLength(2);
    expect(xml).toMatch(/<testcase [^\n]*name="Smoke 10 — TLS[^\n]*>\s*<skipped\/>/);
    // A skipped case has no text of its own: why it did not run is in its system-out.
    expect(xml).toMatch(/<skipped\/>\s*<system-out><!\[CDATA\[[^\]]*reason: never ran]]>/);
  });

  it('is valid against the Jenkins xUnit schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'junit-'));
    writeFileSync(join(dir, 'p.xml'), xml);
    const schema = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'jenkins-xunit-junit-10.xsd');
    execFileSync('xmllint', ['--noout', '--schema', schema, join(dir, 'p.xml')], { stdio: 'pipe' });
  });
});
