import { afterEach, describe, expect, it, vi } from 'vitest';
import { TriggerTracker, triggers } from './triggers';

const def = (name: string) => triggers.find((t) => t.name === name)!;
const FIVE_MIN = 5 * 60_000;

afterEach(() => vi.useRealTimers());

/** Feeds a sample every 30 s of fake time. */
function feed(t: TriggerTracker, values: number[]) {
  vi.useFakeTimers();
  return values.map((v) => {
    const s = t.update(Date.now(), { value: v });
    vi.advanceTimersByTime(30_000);
    return s.level;
  });
}

describe('rollback triggers', () => {
  it('5xx > 2% for 5 minutes is critical; not before the window ends', () => {
    const t = new TriggerTracker(def('5xx error rate'), FIVE_MIN);
    const levels = feed(t, Array(12).fill(2.5));
    expect(levels.slice(0, 10)).not.toContain('critical');
    expect(levels[10]).toBe('critical');
    expect(t.state.detail).toMatch(/> 2 sustained for 330 s/);
  });

  it('a breach that recovers before the window ends never becomes critical, and the clock restarts', () => {
    const t = new TriggerTracker(def('5xx error rate'), FIVE_MIN);
    const levels = feed(t, [...Array(9).fill(3), 0.1, ...Array(9).fill(3)]);
    expect(levels).not.toContain('critical');
    expect(t.state.worst).toBe('warning');
  });

  it('a critical-level breach that is not yet sustained is a warning', () => {
    const t = new TriggerTracker(def('5xx error rate'), FIVE_MIN);
    expect(feed(t, [5])).toEqual(['warning']);
    expect(t.state.detail).toMatch(/not yet sustained/);
  });

  it('> 0.5% sustained is a warning, not critical', () => {
    const t = new TriggerTracker(def('5xx error rate'), FIVE_MIN);
    const levels = feed(t, Array(12).fill(1));
    expect(levels.at(-1)).toBe('warning');
    expect(t.state.worst).toBe('warning');
  });

  it('p99 search latency > 3 s for 5 minutes is critical', () => {
    const t = new TriggerTracker(def('P99 search latency'), FIVE_MIN);
    expect(feed(t, Array(11).fill(3.5)).at(-1)).toBe('critical');
  });

  it('API health: 1 failure warns, 3 consecutive are critical, a pass resets', () => {
    const t = new TriggerTracker(def('API health check'), FIVE_MIN);
    const run = (oks: boolean[]) => oks.map((ok) => t.update(Date.now(), { ok }).level);
    expect(run([false, true, false, false])).toEqual(['warning', 'ok', 'warning', 'warning']);
    expect(run([false])).toEqual(['critical']);
  });

  it.each([
    ['DB pool usage', 71, 'warning'],
    ['DB pool usage', 91, 'critical'],
    ['Redis memory', 86, 'critical'],
    ['Disk', 86, 'warning'],
    ['Disk', 93, 'critical'],
    ['Disk', 50, 'ok'],
  ])('%s at %d%% is %s at once', (name, v, level) => {
    expect(new TriggerTracker(def(name), FIVE_MIN).update(0, { value: v }).level).toBe(level);
  });

  it('a sample that could not be taken is unknown, with the reason', () => {
    const s = new TriggerTracker(def('Redis memory'), FIVE_MIN).update(0, { unknown: 'maxmemory is 0: no percentage' });
    expect(s).toMatchObject({ level: 'unknown', detail: 'maxmemory is 0: no percentage' });
  });
});

describe('a trigger that could not be seen is never clear', () => {
  const WINDOW = 60_000;
  it('unknown for a whole window is blind, with the reason; one sample short of it is a warning gap', () => {
    const blind = new TriggerTracker(def('P99 search latency'), WINDOW);
    blind.update(0, { value: 0.1 });
    blind.update(10_000, { unknown: 'Prometheus did not answer' });
    expect(blind.blindNow(69_999)).toBe(false);
    expect(blind.blindNow(70_000)).toBe(true);
    blind.update(70_000, { value: 0.1 });
    expect(blind.finish(80_000)).toEqual({ blind: 'unknown for 60 s: Prometheus did not answer', gaps: [] });

    const gap = new TriggerTracker(def('P99 search latency'), WINDOW);
    gap.update(0, { value: 0.1 });
    gap.update(10_000, { unknown: 'no search request in the query range' });
    gap.update(69_999, { value: 0.1 });
    expect(gap.finish(80_000)).toEqual({ gaps: ['unknown for 60 s: no search request in the query range'] });
  });

  it('never seen in a watch shorter than the window is blind; an open gap at the end counts up to the end', () => {
    const never = new TriggerTracker(def('DB pool usage'), WINDOW);
    never.update(0, { unknown: 'connection refused' });
    never.update(15_000, { unknown: 'connection refused' });
    expect(never.finish(20_000).blind).toBe('not seen once in the watch: connection refused');

    const late = new TriggerTracker(def('Disk'), WINDOW);
    late.update(0, { value: 10 });
    late.update(10_000, { unknown: 'statfs failed' });
    expect(late.finish(70_000).blind).toBe('unknown for 60 s: statfs failed');
  });

  it('not applicable is said, seen and clear, never blind', () => {
    const t = new TriggerTracker(def('Redis memory'), WINDOW);
    for (let at = 0; at <= 120_000; at += 15_000) t.update(at, { notApplicable: 'Redis has no maxmemory' });
    expect(t.state).toMatchObject({ level: 'ok', detail: 'not applicable: Redis has no maxmemory' });
    expect(t.finish(130_000)).toEqual({ gaps: [], notApplicable: 'Redis has no maxmemory' });
  });

  it('a tracker never fed is blind', () => {
    expect(new TriggerTracker(def('Disk'), WINDOW).finish(1000).blind).toMatch(/not seen once in the watch/);
  });
});
