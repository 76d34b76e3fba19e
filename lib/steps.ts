import { beforeAll, type TestContext } from 'vitest';

export interface StepRun<T> {
  /** The step's result for a test; skips as not run when an earlier step stopped the sequence. */
  get(ctx: TestContext, opts?: { blocking?: boolean }): T;
}

/**
 * Runbook steps as sequential setup hooks. A step's work runs in beforeAll; its errors are kept and
 * rethrown by the step's tests, so a failed step is a failing case, not a silent skip. Any failing
 * blocking test stops every later step: their hooks do nothing and their tests are reported not run.
 */
export function sequence() {
  let stoppedBy: string | undefined;
  return {
    get stoppedBy() {
      return stoppedBy;
    },
    stop(reason: string) {
      stoppedBy ??= reason;
    },
    step<T>(name: string, perform: () => Promise<T>): StepRun<T> {
      let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
      let skippedBecause: string | undefined;
      beforeAll(async () => {
        if (stoppedBy) {
          skippedBecause = stoppedBy;
          return;
        }
        try {
          outcome = { ok: true, value: await perform() };
        } catch (error) {
          outcome = { ok: false, error };
          stoppedBy ??= `${name} failed`;
        }
      });
      return {
        get(ctx, opts) {
          if (skippedBecause || !outcome) {
            ctx.skip(`not run: ${skippedBecause ?? stoppedBy ?? 'the step did not start'}`);
          }
          if (opts?.blocking ?? true) ctx.onTestFailed(() => void (stoppedBy ??= `${ctx.task.name} failed`));
          if (!outcome!.ok) throw outcome!.error;
          return outcome!.value;
        },
      };
    },
  };
}
