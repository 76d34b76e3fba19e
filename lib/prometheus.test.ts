import { describe, expect, it } from 'vitest';
import { parseRequestCounts } from './prometheus';

describe('request counts from /metrics', () => {
  it('splits 5xx from the total', () => {
    const r = parseRequestCounts('# HELP x\nhttp_requests_total{route="/health",status="200"} 97\nhttp_requests_total{route="/v1/search",status="503"} 3\nhttp_request_duration_seconds_count{route="/health"} 97\n');
    expect(r).toEqual({ errors: 3, total: 100, pct: 3 });
  });
});
