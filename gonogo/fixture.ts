// The gate's healthy evidence as plain values, generated from the catalogue: every check of each phase recorded
// with its example. Shared by the gate's tests on disk (gate.test.ts) and on plain values (decide.test.ts).
import type { PhaseEvidence } from '../lib/harness/evidence';
import type { Identity } from '../lib/harness/identity';
import { checksOf } from '../runbook/catalogue';

export const now = new Date('2026-04-23T12:25:00Z');
export const at = (minAgo: number) => new Date(now.getTime() - minAgo * 60_000).toISOString();
export const running = 'abc1234';
export const identity: Identity = {
  apiOrigin: 'https://api.buywhere.ai',
  apiLocalOrigin: 'http://localhost:8000',
  mcpOrigin: 'http://localhost:8080',
  caFingerprint: 'system',
  projectDir: '/home/paperclip/buywhere-api',
  diskPath: '/',
  backupsDir: '/home/paperclip/buywhere-api/backups',
  build: running,
  buildSources: { docker: running },
};
export const settings = { deployBranch: 'master', replicaMaxLagBytes: 16 * 1024 * 1024 };

export type Phases = 'preflight' | 'deploy' | 'smoke';
export type Fixture = Record<Phases, PhaseEvidence>;

/** The healthy fixture, generated from the catalogue: every check of each phase, recorded with its example. */
export function healthy(): Fixture {
  // In the runbook's order: preflight, then the deploy, then smoke.
  const times = { preflight: [12, 11], deploy: [10, 5], smoke: [3, 2] } as const;
  const ev = (phase: Phases, deploySha = running): PhaseEvidence => ({
    phase,
    target: 'production',
    deploySha,
    startedAt: at(times[phase][0]),
    finishedAt: at(times[phase][1]),
    outcome: 'passed',
    identity: structuredClone(identity),
    checks: checksOf(phase).map((e) => ({
      id: e.id,
      title: `${e.section} — ${e.title}`,
      status: 'pass',
      measured: structuredClone(e.example),
      at: at(2),
    })),
  });
  return { preflight: ev('preflight'), deploy: ev('deploy'), smoke: ev('smoke') };
}
