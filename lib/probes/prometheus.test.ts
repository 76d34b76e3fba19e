import { describe, expect, it } from 'vitest';
import { newSince, parseRequestCounts } from './prometheus';

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
