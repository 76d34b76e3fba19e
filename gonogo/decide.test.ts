// The decision on plain values: no folder, no key, no file. Each case changes one thing in what load.ts would have
// read, and the decision follows from that alone.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PhaseEvidence } from '../lib/harness/evidence';
import { decide, type DecideSettings } from './decide';
import { healthy, identity, now, running, settings as judging } from './fixture';
import type { GatePhase, LoadedEvidence, PhaseFile } from './load';

const settings: DecideSettings = { ...judging, target: 'production', maxAgeMin: 30 };

function loaded(change: (f: Record<GatePhase, PhaseFile>) => void = () => {}): LoadedEvidence {
  const e = healthy();
  const file = (phase: GatePhase, raw?: PhaseEvidence): PhaseFile =>
    raw
      ? { phase, path: `/r/evidence/${phase}.json`, raw }
      : { phase, path: `/r/evidence/${phase}.json`, absent: true };
  const files = {
    preflight: file('preflight', e.preflight),
    deploy: file('deploy', e.deploy),
    smoke: file('smoke', e.smoke),
    rollback: file('rollback'),
  };
  change(files);
  return { evidenceDir: '/r/evidence', files };
}
const reasons = (g: ReturnType<typeof decide>) =>
  [...g.conditions.map((c) => c.reason), g.completeness.reason].join('\n');

describe('decide, on plain values', () => {
  it('whole, fresh, sealed evidence of the running build is GO, until the first window closes', () => {
    const g = decide(loaded(), identity, settings, now);
    expect(g.decision, reasons(g)).toBe('GO');
    expect(g.deploySha).toBe(running);
    expect(g.validUntil).toBeDefined();
    expect(g.evidenceFiles).toEqual(['preflight', 'deploy', 'smoke', 'rollback'].map((p) => `/r/evidence/${p}.json`));
  });

  it.each([
    [
      'a seal that does not verify',
      (f: Record<GatePhase, PhaseFile>) => (f.smoke.unsealed = 'its seal does not match'),
      /smoke evidence is not as its run wrote it: its seal does not match/,
    ],
    [
      'a file that is not the last run’s',
      (f: Record<GatePhase, PhaseFile>) => (f.preflight.replayed = 'a later run started'),
      /preflight evidence is not the last run's: a later run started/,
    ],
    [
      'no smoke at all',
      (f: Record<GatePhase, PhaseFile>) => (f.smoke = { phase: 'smoke', path: 'x', absent: true }),
      /no smoke evidence: run `npm run smoke`/,
    ],
    [
      'a smoke file that is not JSON',
      (f: Record<GatePhase, PhaseFile>) => (f.smoke = { phase: 'smoke', path: 'x', unreadable: true }),
      /smoke evidence x is not valid JSON/,
    ],
    [
      'a file that is an array',
      (f: Record<GatePhase, PhaseFile>) => (f.preflight.raw = []),
      /preflight evidence is not an object/,
    ],
  ])('%s is HOLD, saying so', (_, change, why) => {
    const g = decide(loaded(change), identity, settings, now);
    expect(g.decision).toBe('HOLD');
    expect(reasons(g)).toMatch(why);
  });

  it('the same evidence an hour later is HOLD: the window is a setting, the time a value', () => {
    const later = new Date(now.getTime() + 60 * 60_000);
    const g = decide(loaded(), identity, settings, later);
    expect(g.decision).toBe('HOLD');
    expect(reasons(g)).toMatch(/min old \(window 30 min\)/);
  });

  it('another target, or another public or local address, is HOLD', () => {
    expect(decide(loaded(), identity, { ...settings, target: 'staging' }, now).decision).toBe('HOLD');
    const elsewhere = decide(loaded(), { ...identity, apiLocalOrigin: 'http://localhost:9000' }, settings, now);
    expect(elsewhere.decision).toBe('HOLD');
    expect(reasons(elsewhere)).toMatch(/deploy evidence probed something else: apiLocalOrigin/);
  });

  describe("each replica's own build (smoke.replicas)", () => {
    const rep = (slot: number, build: string | null, http: number | null = 200) => ({
      slot,
      node: `host-${slot}`,
      url: `http://127.0.0.1:${7999 + slot}`,
      http,
      build,
      runs: running,
    });
    const withReplicas = (status: 'pass' | 'fail' | 'error', measured: unknown, message?: string) =>
      loaded((f) => {
        const rec = (f.smoke.raw as PhaseEvidence).checks.find((c) => c.id === 'smoke.replicas')!;
        Object.assign(rec, { status, measured, message });
      });

    it('one replica of another build is HOLD, naming it, whether its record failed or was forged as a pass', () => {
      for (const status of ['fail', 'pass'] as const) {
        const g = decide(
          withReplicas(status, { replicas: [rep(1, running), rep(2, 'bad0000')] }),
          identity,
          settings,
          now,
        );
        expect(g.decision, status).toBe('HOLD');
        expect(reasons(g)).toMatch(
          /replica 2 on host-2 answers \/health as build bad0000, but the running build is abc1234: redeploy or roll back/,
        );
      }
    });

    it('a replica that names its build some other way than a commit SHA is judged as smoke 1 is: not a HOLD here', () => {
      const g = decide(
        withReplicas('fail', { replicas: [rep(1, running), rep(2, 'v2.4.1')] }),
        identity,
        settings,
        now,
      );
      expect(g.decision, reasons(g)).toBe('GO');
      expect(g.advisories.find((a) => /API replica/.test(a.title))?.status).toBe('fail');
    });

    it('the same build named at full length is GO', () => {
      const full = `${running}${'0'.repeat(33)}`;
      const g = decide(withReplicas('pass', { replicas: [rep(1, running), rep(2, full)] }), identity, settings, now);
      expect(g.decision, reasons(g)).toBe('GO');
    });

    it('a replica that does not answer, or a smoke that could not ask, stays advisory: GO, with the advisory shown', () => {
      const silent = withReplicas('fail', { replicas: [rep(1, running), rep(2, null, null)] }, 'replica 2: HTTP none');
      const unasked = withReplicas('error', undefined, 'could not check: no engine to ask (a remote smoke)');
      for (const l of [silent, unasked]) {
        const g = decide(l, identity, settings, now);
        expect(g.decision, reasons(g)).toBe('GO');
        expect(g.advisories.find((a) => /API replica/.test(a.title))?.status).toMatch(/^(fail|error)$/);
      }
    });
  });

  it('a launch that stopped is HOLD, first among the reasons', () => {
    const g = decide({ ...loaded(), launchStop: 'preflight failed' }, identity, settings, now);
    expect(g.decision).toBe('HOLD');
    expect(g.completeness.reason).toMatch(/^launch stopped: preflight failed/);
  });

  it('the module reads nothing: no import of node:fs, directly or through what it imports at run time', () => {
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/from 'node:fs'|from 'fs'|require\('fs'\)/);
      for (const m of text.matchAll(/^import (?!type )[^;]*? from '(\.{1,2}\/[^']+)';/gm)) {
        const next = new URL(m[1]!.replace(/\.js$/, '.ts'), `file://${file}`).pathname;
        walk(next);
      }
    };
    walk(new URL('./decide.ts', import.meta.url).pathname);
    expect(seen.size).toBeGreaterThan(1);
  });
});
