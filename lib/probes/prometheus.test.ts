import { describe, expect, it } from 'vitest';
import {
  conditionsSince,
  newSince,
  p1Firing,
  parseRequestCounts,
  targetsUnseen,
  type ActiveTarget,
  type Alert,
  type RuleAlert,
} from './prometheus';

describe('request counts from /metrics', () => {
  it('splits 5xx from the total', () => {
    const r = parseRequestCounts(
      '# HELP x\nhttp_requests_total{route="/health",status="200"} 97\nhttp_requests_total{route="/v1/search",status="503"} 3\nhttp_request_duration_seconds_count{route="/health"} 97\n',
    );
    expect(r).toEqual({ errors: 3, total: 100, pct: 3 });
  });
});

describe('P1 alerts new since the rollback began', () => {
  const since = new Date('2026-04-23T12:00:00Z');
  const alert = (name: string, startsAt: string) => ({
    name,
    severity: 'critical',
    priority: 'P1',
    state: 'active',
    startsAt: new Date(startsAt),
  });
  it('an alert whose condition held before the rollback is resolving, even when it fires after it', () => {
    const late = alert('ApiHigh5xxRate', '2026-04-23T12:00:20Z');
    const r = newSince([late], since, new Map([['ApiHigh5xxRate', new Date('2026-04-23T11:59:50Z')]]));
    expect(r).toEqual({ fresh: [], resolving: [late] });
  });
  it('an alert whose condition began after the rollback is new; without Prometheus, startsAt decides', () => {
    const after = alert('ApiHealthProbeFailing', '2026-04-23T12:00:40Z');
    expect(
      newSince([after], since, new Map([['ApiHealthProbeFailing', new Date('2026-04-23T12:00:10Z')]])).fresh,
    ).toEqual([after]);
    expect(newSince([after], since).fresh).toEqual([after]);
    expect(newSince([alert('Old', '2026-04-23T11:50:00Z')], since).fresh).toEqual([]);
  });
});

describe('API targets Prometheus does not see now', () => {
  const target = (job: string, instance: string, health: string, lastError = ''): ActiveTarget => ({
    job,
    instance,
    health,
    lastError,
  });
  it('none when every target of the jobs is up; other jobs are not judged', () => {
    const active = [target('api', 'a:1', 'up'), target('api', 'a:2', 'up'), target('blackbox', 'b:1', 'down')];
    expect(targetsUnseen(['api'], active)).toEqual([]);
  });
  it('a target down, with its error, and one not scraped yet', () => {
    const active = [target('api', 'a:1', 'down', 'connection refused'), target('api', 'a:2', 'unknown')];
    expect(targetsUnseen(['api'], active)).toEqual([
      { instance: 'a:1', error: 'connection refused' },
      { instance: 'a:2', error: 'not scraped yet' },
    ]);
  });
  it('a job with samples and no active target (Prometheus just started, or its config lost the job) is unseen', () => {
    expect(targetsUnseen(['api'], [])).toEqual([{ instance: 'job api', error: 'no target scraped now' }]);
    expect(targetsUnseen(['api', 'api'], [target('other', 'o:1', 'up')])).toHaveLength(1);
  });
  it('no job with samples: nothing to judge here (the queries themselves come back empty)', () => {
    expect(targetsUnseen([], [target('api', 'a:1', 'unknown')])).toEqual([]);
  });
});

describe('P1 alerts firing now, from Alertmanager and from Prometheus', () => {
  const held = (name: string, state: string, severity = 'critical'): Alert => ({
    name,
    severity,
    priority: '',
    state,
    startsAt: new Date('2026-04-23T12:00:00Z'),
  });
  const fired = (name: string, state: string, activeAt: string, priority = 'P1'): RuleAlert => ({
    name,
    severity: '',
    priority,
    state,
    activeAt: new Date(activeAt),
  });
  it('what Alertmanager holds active or unprocessed counts; silenced or inhibited (suppressed) and non-P1 do not', () => {
    const r = p1Firing([
      held('A', 'active'),
      held('B', 'unprocessed'),
      held('C', 'suppressed'),
      held('D', 'active', 'warning'),
    ]);
    expect(r.alerts.map((a) => a.name)).toEqual(['A', 'B']);
    expect(r.notHeld).toEqual([]);
  });
  it('a P1 Prometheus fires that Alertmanager does not hold (restarted, or never reached) counts, from its activeAt', () => {
    const r = p1Firing([], [fired('ApiHigh5xxRate', 'firing', '2026-04-23T12:01:00Z')]);
    expect(r.notHeld).toEqual(['ApiHigh5xxRate']);
    expect(r.alerts).toEqual([
      expect.objectContaining({ name: 'ApiHigh5xxRate', startsAt: new Date('2026-04-23T12:01:00Z') }),
    ]);
  });
  it('one Alertmanager holds in any state is not counted twice, and a silenced one stays silenced', () => {
    const f = [fired('A', 'firing', '2026-04-23T12:01:00Z'), fired('C', 'firing', '2026-04-23T12:01:00Z')];
    const r = p1Firing([held('A', 'active'), held('C', 'suppressed')], f);
    expect(r.alerts.map((a) => a.name)).toEqual(['A']);
    expect(r.notHeld).toEqual([]);
  });
  it('pending alerts, and firing ones that are not P1, are not firing P1s', () => {
    const r = p1Firing(
      [],
      [fired('P', 'pending', '2026-04-23T12:01:00Z'), fired('W', 'firing', '2026-04-23T12:01:00Z', 'P3')],
    );
    expect(r).toEqual({ alerts: [], notHeld: [] });
  });
  it('one alert name over several series is one alert not held; its condition dates from its earliest series', () => {
    const f = [fired('A', 'firing', '2026-04-23T12:02:00Z'), fired('A', 'firing', '2026-04-23T12:01:00Z')];
    expect(p1Firing([], f).notHeld).toEqual(['A']);
    expect(conditionsSince(f).get('A')).toEqual(new Date('2026-04-23T12:01:00Z'));
    expect(conditionsSince([fired('X', 'firing', 'not a date')]).has('X')).toBe(false);
  });
});
