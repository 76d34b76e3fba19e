import type { TestContext } from 'vitest';
import { entry, judge, type CheckId, type Measured } from '../../runbook/catalogue.js';
import { target } from './run.js';
import { CheckFailed, CouldNotCheck, isCouldNotCheck } from '../core/errors.js';
import { scrub, scrubValue } from '../core/secret.js';
import { failureText } from '../core/failure.js';

export interface CheckMeta {
  /** Stable catalogue id the gate reads: "preflight.1.4", "smoke.9". */
  id: CheckId;
  /** The runbook threshold, as text for the report. */
  threshold: string;
  action: string;
  advisory: boolean;
  measured?: Measured;
  /** Set by `nothingToAsk`: an advisory check this run had nothing to ask, recorded as could-not-check. */
  nothingToAsk?: string;
}

declare module 'vitest' {
  interface TaskMeta {
    check?: CheckMeta;
    /** The build the phase's evidence vouches for, as its spec declared it. */
    vouchesFor?: string;
  }
}

export interface Check {
  /**
   * Records the measured record and asserts the runbook's promise with the catalogue's own judge, the
   * one the gate re-runs. The failure says what was checked, what was expected, what was found and what to do.
   */
  judge(record: Measured): void;
  /** Runs a probe. Anything it throws becomes CouldNotCheck: the check could not run, which is not a pass. */
  probe<T>(fn: () => Promise<T>): Promise<T>;
  /** Stops the check as one that could not run (a HOLD, never a pass), with the catalogue's action. */
  couldNotCheck(why: string): never;
  /** The message for an assertion: what is asserted, and what to do when it fails. */
  says(what: string): string;
  /** Skips with a reason that the report shows. */
  skip(reason: string): never;
  /**
   * An advisory check this run has nothing to ask (a remote smoke has no engine): recorded as could-not-check, so
   * no report shows it as met or as not applicable, without failing the run over a check that does not block GO.
   * A blocking check that cannot look is a could-not-check like any other, and fails.
   */
  nothingToAsk(why: string): never;
  /**
   * Declares the build this phase's evidence vouches for: the checkout preflight checked, the build a deploy puts
   * in place, the build a rollback restores. Smoke and the gate declare none: they vouch for the running build.
   */
  vouchesFor(build: string): void;
}

/** Throws the error that makes a test a could-not-check: a HOLD with the reason and what to do. */
export function couldNotCheck(why: string, action: string, secrets: string[] = target().secretValues): never {
  throw new CouldNotCheck(scrub(failureText({ title: why, action }), secrets));
}

/** Declares the running test as the catalogue's check `id` and returns its recording helpers. */
export function check(ctx: TestContext, id: CheckId): Check {
  const e = entry(id);
  // Scrubbed here, in the worker, before anything reaches Vitest's results, its HTML report data or the console.
  const secrets = target().secretValues;
  const meta: CheckMeta = { id, threshold: e.expected, action: e.action, advisory: e.kind === 'advisory' };
  ctx.task.meta.check = meta;
  return {
    judge(record) {
      meta.measured = scrubValue(record, secrets);
      const t = target();
      const why = judge(id, record, { deployBranch: t.deployBranch, replicaMaxLagBytes: t.replicaMaxLagBytes });
      if (why) {
        const text = failureText({
          title: `${e.section} — ${e.title}`,
          expected: e.expected,
          found: why,
          action: e.action,
        });
        throw new CheckFailed(scrub(text, secrets));
      }
    },
    async probe(fn) {
      try {
        return await fn();
      } catch (err) {
        const raw = (err as Error).message ?? String(err);
        const message = scrub(raw, secrets);
        if (isCouldNotCheck(err) && message === raw) throw err;
        // A fresh error: the stack of the original would still carry the unscrubbed message.
        throw new CouldNotCheck(message);
      }
    },
    couldNotCheck: (why) => couldNotCheck(why, e.action, secrets),
    says: (what) => scrub(`${what} [${e.action}]`, secrets),
    skip(reason) {
      ctx.skip(reason);
      throw new Error('unreachable');
    },
    nothingToAsk(why) {
      if (!meta.advisory) return couldNotCheck(why, e.action, secrets);
      meta.nothingToAsk = scrub(failureText({ title: `could not check: ${why}`, action: e.action }), secrets);
      ctx.skip(meta.nothingToAsk);
      throw new Error('unreachable');
    },
    vouchesFor(build) {
      ctx.task.meta.vouchesFor = build;
    },
  };
}
