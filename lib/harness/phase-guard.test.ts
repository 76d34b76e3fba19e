import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../core/wait';
import { readEvidence, writeEvidence, type PhaseEvidence } from './evidence';
import { earlierPhases } from './phase-setup';
import { onEvidenceWritten, whyNotRun } from './phase-guard';

const evidence = (over: Partial<PhaseEvidence> = {}): PhaseEvidence => ({
  phase: 'preflight',
  target: 'staging',
  deploySha: 'abc1234',
  startedAt: '2026-11-29T07:00:00Z',
  finishedAt: '2026-11-29T07:00:05Z',
  outcome: 'passed',
  checks: [{ id: 'preflight.1.4', title: '1.4 — Disk', status: 'pass', at: '2026-11-29T07:00:04Z' }],
  ...over,
});
const ok = (e: PhaseEvidence) => ({ phase: e.phase, read: { ok: true as const, evidence: e } });

describe('a phase in a run of several', () => {
  it('waits on the earlier phases of the same run, in runbook order; the gate waits on none', () => {
    const launch = ['preflight', 'smoke', 'gonogo'];
    expect(earlierPhases('preflight', launch)).toEqual([]);
    expect(earlierPhases('smoke', launch)).toEqual(['preflight']);
    expect(earlierPhases('gonogo', launch)).toEqual([]);
    expect(earlierPhases('smoke', ['smoke'])).toEqual([]);
    expect(earlierPhases('smoke', ['deploy', 'smoke', 'preflight'])).toEqual(['preflight', 'deploy']);
    expect(earlierPhases('rollback', ['gonogo', 'rollback'])).toEqual([]);
  });

  it('runs only when every earlier phase passed, whole', () => {
    expect(whyNotRun([])).toBeUndefined();
    expect(whyNotRun([ok(evidence())])).toBeUndefined();
    // A skip with a reason (1.3 with no stack) is not a failure of the phase; the gate judges it.
    expect(
      whyNotRun([ok(evidence({ checks: [{ id: 'preflight.1.3.db', title: '1.3', status: 'skipped', at: 'x' }] }))]),
    ).toBeUndefined();
  });

  it('is not run after a failed, errored, unfinished, partial or missing earlier phase, saying which', () => {
    const failed = evidence({
      outcome: 'failed',
      checks: [{ id: 'preflight.1.5', title: '1.5 — Backup', status: 'fail', at: 'x' }],
    });
    expect(whyNotRun([ok(failed)])).toBe('preflight failed (1.5 — Backup); later phases not run');
    const errored = evidence({ checks: [{ id: 'preflight.1.3.db', title: '1.3 — DB', status: 'error', at: 'x' }] });
    expect(whyNotRun([ok(errored)])).toMatch(/^preflight failed \(1.3 — DB\)/);
    const notRun = evidence({ checks: [{ id: 'preflight.1.6', title: '1.6', status: 'not-run', at: 'x' }] });
    expect(whyNotRun([ok(notRun)])).toMatch(/^preflight failed \(1.6\)/);
    expect(whyNotRun([ok(evidence({ outcome: 'interrupted' }))])).toBe(
      'preflight failed (interrupted); later phases not run',
    );
    expect(whyNotRun([ok(evidence({ partial: ['-t disk'] }))])).toBe(
      'preflight was a partial run (-t disk); later phases not run',
    );
    expect(whyNotRun([{ phase: 'preflight', read: { ok: false, problem: 'no preflight evidence' } }])).toBe(
      'preflight left no evidence (no preflight evidence); later phases not run',
    );
    // The first earlier phase that did not pass is named.
    expect(whyNotRun([ok(evidence()), ok(evidence({ phase: 'deploy', outcome: 'failed' }))])).toMatch(/^deploy failed/);
  });
});

describe('waiting for an earlier phase', () => {
  it('reads the evidence as soon as the reporter writes it, not at the next poll', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guard-'));
    const read = () => readEvidence(dir, 'preflight');
    // A poll ten minutes apart: only the watch can end this wait within the test's deadline.
    const waited = waitUntil(
      async () => {
        const r = read();
        return r.ok ? { ready: true as const, value: r.evidence } : { ready: false as const, last: 'none yet' };
      },
      { what: 'preflight evidence', timeoutMs: 600_000, intervalMs: 600_000, wake: onEvidenceWritten(dir) },
    );
    setTimeout(() => writeEvidence(dir, evidence()), 50);
    expect((await waited).value.outcome).toBe('passed');
  }, 20_000);

  it('falls back to polling where the evidence folder cannot be made', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'guard-')), 'not-a-folder');
    writeFileSync(file, '');
    const stop = onEvidenceWritten(file)(() => {});
    expect(stop).toBeTypeOf('function');
    stop();
    const w = await waitUntil(async () => ({ ready: true as const, value: 1 }), {
      what: 'nothing',
      wake: onEvidenceWritten(file),
    });
    expect(w.value).toBe(1);
  });
});
