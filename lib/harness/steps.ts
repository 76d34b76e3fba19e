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
}

/**
 * Runbook steps as sequential setup hooks. A step's work runs in beforeAll; its errors are kept and
 * rethrown by the step's tests, so a failed step is a failing case, not a silent skip. Any failing
 * blocking test stops every later step: their hooks do nothing and their tests are reported not run.
 */
export function sequence(phase: 'deploy' | 'rollback') {
  let stoppedBy: string | undefined;
  return {
    get stoppedBy() {
      return stoppedBy;
    },
    stop(reason: string) {
      stoppedBy ??= reason;
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
          if (skippedBecause || !outcome) {
            ctx.skip(`not run: ${skippedBecause ?? stoppedBy ?? 'the step did not start'}`);
          }
          ctx.task.meta.stepMs = Math.round(durationMs);
          if (opts?.blocking ?? true) ctx.onTestFailed(() => void (stoppedBy ??= `${ctx.task.name} failed`));
          if (!outcome!.ok) throw outcome!.error;
          return outcome!.value;
        },
      };
    },
  };
}
