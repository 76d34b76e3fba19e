// Test-only kill points at the runbook's step boundaries. An end-to-end test names one point in
// RUNBOOK_TEST_KILL_POINT ("deploy step 4", "rollback step 3 in progress"); the phase announces it on stderr
// and holds still there, so the test kills at a step rather than at a moment on the clock. Inert unless the
// target is staging with its admin switch on, so a production run can never stop at one.
import { onStepInProgress } from '../core/step-signal.js';
import { resolveTarget, runOptions } from './config.js';

export { killPointEnv } from './config.js';
export const killPointMarker = '⏸ kill point reached:';
/** How long an armed point holds before giving up, so a test that never kills cannot hang a phase. */
const holdMs = 120_000;

let armedPoint: string | null | undefined;
let currentStep: string | undefined;
const reached = new Set<string>();

/** The point a run holds at: named in the environment, and only on staging with its admin switch on. */
export function armedKillPoint(env?: NodeJS.ProcessEnv): string | null {
  const point = runOptions(env).killPoint;
  if (!point) return null;
  try {
    const t = resolveTarget(env).target;
    return t.name === 'staging' && t.adminUrl ? point : null;
  } catch {
    return null;
  }
}

function armed(): string | null {
  armedPoint ??= armedKillPoint();
  return armedPoint;
}

async function reach(point: string): Promise<void> {
  if (armed() !== point || reached.has(point)) return;
  reached.add(point);
  process.stderr.write(`\n${killPointMarker} ${point} (pid ${process.pid})\n`);
  await new Promise((resolve) => setTimeout(resolve, holdMs));
  throw new Error(`kill point "${point}" was held ${holdMs / 1000} s and nobody killed the run`);
}

/** Marks the start of a runbook step ("deploy step 2"); stops there when that point is armed. */
export function stepStarts(point: string): Promise<void> {
  currentStep = point;
  return reach(point);
}

// The long work of a step (a build, a migration, a compose call, a wait) signals through core/step-signal.
onStepInProgress(() => (currentStep ? reach(`${currentStep} in progress`) : Promise.resolve()));

/** Leaves the step: work after it (the phase's tests, its reporter) is in no step. */
export function stepEnds(): void {
  currentStep = undefined;
}
