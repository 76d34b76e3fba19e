// Runbook section 4, rollback triggers: thresholds, "sustained for 5 minutes" windows and "3 consecutive"
// counts, as a pure state machine fed one sample at a time.

export type Level = 'ok' | 'warning' | 'critical' | 'unknown';

export { rollbackTriggers as triggers, type TriggerDef } from '../../runbook/catalogue.js';
import type { TriggerDef } from '../../runbook/catalogue.js';

/**
 * One observation: a number, a health-check result (true = passed), why nothing could be measured, or why the
 * trigger does not apply here (a Redis with no maxmemory has no memory percentage).
 */
export type Sample = { value: number } | { ok: boolean } | { unknown: string } | { notApplicable: string };

export interface TriggerState {
  level: Level;
  /** What the level rests on: "2.4% for 312 s", "3 consecutive failures", "no maxmemory set". */
  detail: string;
  /** The worst level seen during the watch. */
  worst: Level;
}

/** How well a trigger was seen over a whole watch. */
export interface Sight {
  /** Set when the trigger was unknown for a whole window or more, or for the whole watch: why. */
  blind?: string;
  /** Shorter stretches without a sample: warnings. */
  gaps: string[];
  /** Set when the trigger does not apply here: said once, never blind. */
  notApplicable?: string;
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
  private unknownSince: number | undefined;
  private unknownWhy = '';
  private seen = false;
  private readonly sight: Sight = { gaps: [] };
  state: TriggerState = { level: 'unknown', detail: 'no sample yet', worst: 'ok' };

  constructor(
    readonly def: TriggerDef,
    readonly windowMs: number,
  ) {}

  update(now: number, s: Sample): TriggerState {
    if ('unknown' in s) {
      this.unknownSince ??= now;
      this.unknownWhy = s.unknown;
    } else {
      this.closeGap(now);
      this.seen = true;
      if ('notApplicable' in s) this.sight.notApplicable ??= s.notApplicable;
    }
    const next = this.evaluate(now, s);
    this.state = { ...next, worst: rank[next.level] > rank[this.state.worst] ? next.level : this.state.worst };
    return this.state;
  }

  /** Whether the trigger has now been unknown for a whole window or more: blind, whatever happens next. */
  blindNow(now: number): boolean {
    return this.unknownSince !== undefined && now - this.unknownSince >= this.windowMs;
  }

  /** How the trigger was seen over the watch that ends at `end`. */
  finish(end: number): Sight {
    if (!this.seen) return { blind: `not seen once in the watch: ${this.unknownWhy || 'no sample taken'}`, gaps: [] };
    this.closeGap(end);
    return this.sight;
  }

  private closeGap(now: number) {
    if (this.unknownSince === undefined) return;
    const ms = now - this.unknownSince;
    const what = `unknown for ${Math.round(ms / 1000)} s: ${this.unknownWhy}`;
    if (ms >= this.windowMs) this.sight.blind ??= what;
    else this.sight.gaps.push(what);
    this.unknownSince = undefined;
  }

  private evaluate(now: number, s: Sample): Omit<TriggerState, 'worst'> {
    const d = this.def;
    if ('unknown' in s) {
      return { level: 'unknown', detail: s.unknown };
    }
    if ('notApplicable' in s) return { level: 'ok', detail: `not applicable: ${s.notApplicable}` };
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
