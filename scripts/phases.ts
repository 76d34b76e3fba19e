// Runs runbook phases as child Vitest processes: the pipelines (launch, demo) and the end-to-end tests
// share this one runner.
import { join } from 'node:path';
import { repoRoot } from '../lib/harness/config.js';
import { run, type RunResult } from '../lib/core/exec.js';
import type { Phase } from '../lib/harness/evidence.js';

export interface PhaseRunOptions {
  env?: Record<string, string | undefined>;
  /** @default 30 minutes */
  timeoutMs?: number;
  echo?: boolean;
  /** Each line of output, as it comes. */
  onLine?: (line: string) => void;
  /** Extra Vitest arguments, such as a name filter. */
  args?: string[];
}

/** One phase, or several in one Vitest process: they run in runbook order (see vitest.config.ts). */
export function runPhase(phase: Phase | readonly Phase[], opts: PhaseRunOptions = {}): Promise<RunResult> {
  const vitest = join(repoRoot, 'node_modules', '.bin', 'vitest');
  const projects = (typeof phase === 'string' ? [phase] : phase).flatMap((p) => ['--project', p]);
  return run([vitest, 'run', ...projects, ...(opts.args ?? [])], {
    cwd: repoRoot,
    env: { FORCE_COLOR: '0', ...opts.env },
    timeoutMs: opts.timeoutMs ?? 30 * 60_000,
    onLine: (l) => {
      if (opts.echo) process.stdout.write(`${l}\n`);
      opts.onLine?.(l);
    },
  });
}
