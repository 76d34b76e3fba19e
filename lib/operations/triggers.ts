// Runbook section 4, rollback triggers: thresholds, "sustained for 5 minutes" windows and "3 consecutive"
// counts, as a pure state machine fed one sample at a time.

export type Level = 'ok' | 'warning' | 'critical' | 'unknown';

export { rollbackTriggers as triggers, type TriggerDef } from '../../runbook/catalogue.js';
import type { TriggerDef } from '../../runbook/catalogue.js';

/** One observation: a number, a health-check result (true = passed), or why nothing could be measured. */
export type Sample = { value: number } | { ok: boolean } | { unknown: string };

export interface TriggerState {
  level: Level;
  /** What the level rests on: "2.4% for 312 s", "3 consecutive failures", "no maxmemory set". */
  detail: string;
  /** The worst level seen during the watch. */
  worst: Level;
}

const rank: Record<Level, number> = { ok: 0, unknown: 1, warning: 2, critical: 3 };

/**
 * Tracks one trigger. A sustained breach starts its clock at the first breaching sample and resets on any
 * sample below the threshold. A critical breach that has not yet lasted the window is a warning.
 */
export class TriggerTracker {
  private warnSince: number | undefined;
  private critSince: number | undefined;
  private failures = 0;
  state: TriggerState = { level: 'ok', detail: 'no sample yet', worst: 'ok' };

  constructor(
    readonly def: TriggerDef,
    readonly windowMs: number,
  ) {}

  update(now: number, s: Sample): TriggerState {
    const next = this.evaluate(now, s);
    this.state = { ...next, worst: rank[next.level] > rank[this.state.worst] ? next.level : this.state.worst };
    return this.state;
  }

  private evaluate(now: number, s: Sample): Omit<TriggerState, 'worst'> {
    const d = this.def;
    if ('unknown' in s) {
      return { level: 'unknown', detail: s.unknown };
    }
    if (d.mode === 'consecutive') {
      const ok = 'ok' in s ? s.ok : false;
      this.failures = ok ? 0 : this.failures + 1;
      if (this.failures >= d.critical) return { level: 'critical', detail: `${this.failures} consecutive failures` };
      if (this.failures >= d.warning)
        return { level: 'warning', detail: `${this.failures} failure${this.failures > 1 ? 's' : ''} in a row` };
      return { level: 'ok', detail: 'passing' };
    }
    const v = 'value' in s ? s.value : NaN;
    const shown = `${Math.round(v * 100) / 100}${d.unit === '%' ? '%' : ` ${d.unit}`}`;
    if (d.mode === 'instant') {
      if (v > d.critical) return { level: 'critical', detail: `${shown} > ${d.critical}` };
      if (v > d.warning) return { level: 'warning', detail: `${shown} > ${d.warning}` };
      return { level: 'ok', detail: shown };
    }
    this.critSince = v > d.critical ? (this.critSince ?? now) : undefined;
    this.warnSince = v > d.warning ? (this.warnSince ?? now) : undefined;
    const held = (since: number | undefined) => (since === undefined ? -1 : now - since);
    const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
    if (held(this.critSince) >= this.windowMs)
      return { level: 'critical', detail: `${shown} > ${d.critical} sustained for ${secs(held(this.critSince))}` };
    if (held(this.warnSince) >= this.windowMs)
      return { level: 'warning', detail: `${shown} > ${d.warning} sustained for ${secs(held(this.warnSince))}` };
    if (this.critSince !== undefined)
      return {
        level: 'warning',
        detail: `${shown} > ${d.critical} for ${secs(held(this.critSince))}, not yet sustained`,
      };
    if (this.warnSince !== undefined)
      return { level: 'ok', detail: `${shown} > ${d.warning} for ${secs(held(this.warnSince))}, not yet sustained` };
    return { level: 'ok', detail: shown };
  }
}
