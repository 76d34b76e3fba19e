import type { TestContext } from 'vitest';
import { entry, judge, type CheckId, type Measured } from '../runbook/catalogue.js';
import { target } from './config.js';
import { CouldNotCheck } from './errors.js';

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
  const meta: CheckMeta = { id, threshold: e.expected, action: e.action, advisory: e.kind === 'advisory' };
  ctx.task.meta.check = meta;
  const c: Check = {
    measured(record) {
      meta.measured = record;
      return record;
    },
    judge(record) {
      c.measured(record);
      const t = target();
      const why = judge(id, record, { deployBranch: t.deployBranch, replicaMaxLagBytes: t.replicaMaxLagBytes });
      if (why) {
        throw Object.assign(new Error(`${e.section} — ${e.title}\n  expected: ${e.expected}\n  found:    ${why}\n  action:   ${e.action}`), { name: 'AssertionError' });
      }
    },
    async probe(fn) {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof CouldNotCheck) throw err;
        throw new CouldNotCheck((err as Error).message ?? String(err), { cause: err });
      }
    },
    says: (what) => `${what} [${e.action}]`,
    skip(reason) {
      ctx.skip(reason);
      throw new Error('unreachable');
    },
  };
  return c;
}
