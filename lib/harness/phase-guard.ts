// Setup file of every runbook phase. When one Vitest run holds several phases (`npm run launch`), a phase runs
// only when every earlier one passed; otherwise each of its checks is recorded as not run, with the reason, and
// the gate holds on them. Nothing of a phase that changes the stack (deploy, rollback) starts at all.
import { mkdirSync, watch } from 'node:fs';
import { beforeEach, inject } from 'vitest';
import { waitUntil } from '../core/wait.js';
import { evidenceDir, readEvidence, writeLaunchStop, type Phase, type ReadResult } from './evidence.js';

/** How long a phase waits for an earlier phase's evidence, which its reporter writes as that phase ends. */
export const earlierEvidenceTimeoutMs = 30_000;

/**
 * Polls now whenever a file in the evidence folder changes: the reporter writes each phase's evidence there (by
 * rename) as the phase ends. Where the folder cannot be watched, the wait's own interval is the fallback.
 */
export function onEvidenceWritten(reportsDir: string): (poll: () => void) => () => void {
  return (poll) => {
    try {
      const dir = evidenceDir(reportsDir);
      mkdirSync(dir, { recursive: true });
      const watcher = watch(dir, () => poll());
      watcher.on('error', () => watcher.close());
      return () => watcher.close();
    } catch {
      return () => {};
    }
  };
}

/** Why this phase must not run, from the earlier phases' evidence; undefined when every one passed. */
export function whyNotRun(earlier: ReadonlyArray<{ phase: Phase; read: ReadResult }>): string | undefined {
  for (const { phase, read } of earlier) {
    if (!read.ok) return `${phase} left no evidence (${read.problem}); later phases not run`;
    const e = read.evidence;
    const failed = e.checks.filter((c) => c.status === 'fail' || c.status === 'error' || c.status === 'not-run');
    if (e.outcome !== 'passed' || failed.length)
      return `${phase} failed (${
        failed.length
          ? failed
              .map((c) => c.title)
              .slice(0, 3)
              .join('; ')
          : e.outcome
      }); later phases not run`;
    if (e.partial?.length) return `${phase} was a partial run (${e.partial.join('; ')}); later phases not run`;
  }
  return undefined;
}

const run = inject('run');
if (run?.after.length) {
  const earlier: Array<{ phase: Phase; read: ReadResult }> = [];
  for (const phase of run.after) {
    const read = await waitUntil(
      async () => {
        const r = readEvidence(run.reportsDir, phase);
        return r.ok && r.evidence.outcome !== 'started'
          ? { ready: true, value: r }
          : { ready: false, last: 'none yet' };
      },
      {
        what: `${phase} evidence from this run`,
        timeoutMs: earlierEvidenceTimeoutMs,
        intervalMs: 100,
        wake: onEvidenceWritten(run.reportsDir),
      },
    ).then(
      (w) => w.value,
      () => readEvidence(run.reportsDir, phase),
    );
    earlier.push({ phase, read });
  }
  const why = whyNotRun(earlier);
  if (why) {
    writeLaunchStop(run.reportsDir, why);
    if (run.phase === 'deploy' || run.phase === 'rollback') throw new Error(`${run.phase} not run: ${why}`);
    beforeEach((ctx) => ctx.skip(`not run: ${why}`));
  }
}
