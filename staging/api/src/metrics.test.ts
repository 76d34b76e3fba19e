import { describe, expect, it } from 'vitest';
import { buckets, Metrics } from './metrics';

describe('the latency histogram', () => {
  it('covers 1 ms to 10 s in buckets at most 10 % wide', () => {
    expect(buckets[0]).toBe(0.001);
    expect(buckets.at(-1)).toBe(10);
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]! / buckets[i - 1]!, `bucket ${buckets[i - 1]} → ${buckets[i]}`).toBeLessThanOrEqual(1.1);
      expect(buckets[i]!).toBeGreaterThan(buckets[i - 1]!);
    }
  });

  it('counts an observation in its bucket and every one above, cumulatively', () => {
    const m = new Metrics();
    m.observe('/v1/search', 200, 0.3);
    m.observe('/v1/search', 200, 0.0005);
    const lines = m.render().split('\n');
    const count = (le: number) =>
      Number(
        lines
          .find((l) => l.startsWith(`http_request_duration_seconds_bucket{route="/v1/search",le="${le}"}`))
          ?.split(' ')[1],
      );
    const justBelow = buckets.filter((b) => b < 0.3).at(-1)!;
    const atOrAbove = buckets.find((b) => b >= 0.3)!;
    expect(count(buckets[0]!)).toBe(1);
    expect(count(justBelow)).toBe(1);
    expect(count(atOrAbove)).toBe(2);
    expect(lines).toContain('http_request_duration_seconds_bucket{route="/v1/search",le="+Inf"} 2');
  });
});
