import type { TestContext } from 'vitest';
import { CouldNotCheck } from './errors.js';

export interface CheckDef {
  /** Stable id the gate reads: "preflight.1.4", "smoke.9". */
  id: string;
  /** The runbook threshold, as text for the report: "< 85%". */
  threshold: string;
  unit?: string;
  /** What to do when it fails: the runbook's remedy or Go/No-Go action. */
  action: string;
  /** Advisory checks are reported but never block GO (MCP health, TLS lifetime). */
  advisory?: boolean;
}

export interface CheckMeta extends CheckDef {
  measured?: unknown;
}

declare module 'vitest' {
  interface TaskMeta {
    check?: CheckMeta;
  }
}

export interface Check {
  /** Records what was measured; returns it so a spec can assert on the same value. */
  measured<T>(value: T, unit?: string): T;
  /** Runs a probe. Anything it throws becomes CouldNotCheck: the check could not run, which is not a pass. */
  probe<T>(fn: () => Promise<T>): Promise<T>;
  /** The message for an assertion: what is asserted, and what to do when it fails. */
  says(what: string): string;
  /** Skips with a reason that the report shows. */
  skip(reason: string): never;
}

/** Declares the running test as a runbook check and returns its recording helpers. */
export function check(ctx: TestContext, def: CheckDef): Check {
  const meta: CheckMeta = { ...def };
  ctx.task.meta.check = meta;
  return {
    measured(value, unit) {
      meta.measured = value;
      if (unit) meta.unit = unit;
      return value;
    },
    async probe(fn) {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof CouldNotCheck) throw err;
        throw new CouldNotCheck((err as Error).message ?? String(err), { cause: err });
      }
    },
    says: (what) => `${what} [${def.action}]`,
    skip(reason) {
      ctx.skip(reason);
      throw new Error('unreachable');
    },
  };
}
