import { beforeAll, type TestContext } from 'vitest';
import { stepEnds, stepStarts } from './killpoint.js';

declare module 'vitest' {
  interface TaskMeta {
    /** How long the step's setup hook took; the report shows it as the step's duration. */
    stepMs?: number;
  }
}

export interface StepRun<T> {
  /** The step's result for a test; skips as not run when an earlier step stopped the sequence. */
  get(ctx: TestContext, opts?: { blocking?: boolean }): T;
  /**
   * The step's result for the work of a later step. A later step only runs when this one went through, so
   * this never sees a failed step; it throws if it is asked out of order.
   */
  value(): T;
  /** The result when the step went through, for clean-up that runs whatever happened. */
  settled(): T | undefined;
}

export interface CheckStep {
  /** Opens a test of the step; skips it as not run when an earlier step stopped the sequence. */
  enter(ctx: TestContext, opts?: { blocking?: boolean }): void;
}

/**
 * Runbook steps as sequential setup hooks. A step's work runs in beforeAll; its errors are kept and
 * rethrown by the step's tests, so a failed step is a failing case, not a silent skip. Any failing
 * blocking test stops every later step: their hooks do nothing and their tests are reported not run.
 * Values pass from step to step through `value()`, never through variables the steps share.
 */
export function sequence(phase: 'deploy' | 'rollback') {
  let stoppedBy: string | undefined;
  const guard = (ctx: TestContext, skippedBecause: string | undefined, started: boolean, blocking = true) => {
    if (skippedBecause || !started) ctx.skip(`not run: ${skippedBecause ?? stoppedBy ?? 'the step did not start'}`);
    if (blocking) ctx.onTestFailed(() => void (stoppedBy ??= `${ctx.task.name} failed`));
  };
  return {
    get stoppedBy() {
      return stoppedBy;
    },
    /** `name` is the runbook's own ("step 4"), never a function's: kill points and messages use it. */
    step<T>(name: string, perform: () => Promise<T>): StepRun<T> {
      const point = `${phase} ${name}`;
      let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
      let skippedBecause: string | undefined;
      let durationMs = 0;
      beforeAll(async () => {
        if (stoppedBy) {
          skippedBecause = stoppedBy;
          return;
        }
        const started = performance.now();
        try {
          await stepStarts(point);
          outcome = { ok: true, value: await perform() };
        } catch (error) {
          outcome = { ok: false, error };
          stoppedBy ??= `${point} failed`;
        } finally {
          stepEnds();
        }
        durationMs = performance.now() - started;
      });
      return {
        get(ctx, opts) {
          guard(ctx, skippedBecause, !!outcome, opts?.blocking);
          ctx.task.meta.stepMs = Math.round(durationMs);
          if (!outcome!.ok) throw outcome!.error;
          return outcome!.value;
        },
        value() {
          if (!outcome?.ok) throw new Error(`${point} has no result: it did not go through`);
          return outcome.value;
        },
        settled: () => (outcome?.ok ? outcome.value : undefined),
      };
    },
    /** A step whose work is its tests (rollback step 6, "verify"): they run only when every earlier step went through. */
    checks(name: string): CheckStep {
      const point = `${phase} ${name}`;
      let skippedBecause: string | undefined;
      let started = false;
      beforeAll(async () => {
        if (stoppedBy) {
          skippedBecause = stoppedBy;
          return;
        }
        try {
          await stepStarts(point);
          started = true;
        } finally {
          stepEnds();
        }
      });
      return { enter: (ctx, opts) => guard(ctx, skippedBecause, started, opts?.blocking) };
    },
  };
}
