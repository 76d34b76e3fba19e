import type { TestContext } from 'vitest';
import { entry, judge, type CheckId, type Measured } from '../../runbook/catalogue.js';
import { target } from './config.js';
import { CouldNotCheck } from '../core/errors.js';
import { scrub, scrubValue } from '../core/secret.js';

export interface CheckMeta {
  /** Stable catalogue id the gate reads: "preflight.1.4", "smoke.9". */
  id: CheckId;
  /** The runbook threshold, as text for the report. */
  threshold: string;
  action: string;
  advisory: boolean;
  measured?: Measured;
}

declare module 'vitest' {
  interface TaskMeta {
    check?: CheckMeta;
  }
}

export interface Check {
  /** Records what was measured (one structured record per check); returns it. */
  measured<T extends Measured>(record: T): T;
  /**
   * Records the measured record and asserts the runbook's promise with the catalogue's own judge, the
   * one the gate re-runs. The failure says what was checked, what was expected, what was found and what to do.
   */
  judge(record: Measured): void;
  /** Runs a probe. Anything it throws becomes CouldNotCheck: the check could not run, which is not a pass. */
  probe<T>(fn: () => Promise<T>): Promise<T>;
  /** The message for an assertion: what is asserted, and what to do when it fails. */
  says(what: string): string;
  /** Skips with a reason that the report shows. */
  skip(reason: string): never;
}

/** Declares the running test as the catalogue's check `id` and returns its recording helpers. */
export function check(ctx: TestContext, id: CheckId): Check {
  const e = entry(id);
  // Scrubbed here, in the worker, before anything reaches Vitest's results, its HTML report data or the console.
  const secrets = target().secretValues;
  const meta: CheckMeta = { id, threshold: e.expected, action: e.action, advisory: e.kind === 'advisory' };
  ctx.task.meta.check = meta;
  const c: Check = {
    measured(record) {
      meta.measured = scrubValue(record, secrets);
      return record;
    },
    judge(record) {
      c.measured(record);
      const t = target();
      const why = judge(id, record, { deployBranch: t.deployBranch, replicaMaxLagBytes: t.replicaMaxLagBytes });
      if (why) {
        throw Object.assign(
          new Error(
            scrub(
              `${e.section} — ${e.title}\n  expected: ${e.expected}\n  found:    ${why}\n  action:   ${e.action}`,
              secrets,
            ),
          ),
          { name: 'AssertionError' },
        );
      }
    },
    async probe(fn) {
      try {
        return await fn();
      } catch (err) {
        const raw = (err as Error).message ?? String(err);
        const message = scrub(raw, secrets);
        if (err instanceof CouldNotCheck && message === raw) throw err;
        // A fresh error: the stack of the original would still carry the unscrubbed message.
        throw Object.assign(new CouldNotCheck(message), {
          name: err instanceof CouldNotCheck ? err.name : 'CouldNotCheck',
        });
      }
    },
    says: (what) => scrub(`${what} [${e.action}]`, secrets),
    skip(reason) {
      ctx.skip(reason);
      throw new Error('unreachable');
    },
  };
  return c;
}
