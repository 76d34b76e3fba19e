import { describe, expect, it } from 'vitest';
import { percentile, pool } from './stats';

describe('stats', () => {
  it('p99 by nearest rank', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 99)).toBe(99);
    expect(percentile(s, 50)).toBe(50);
    expect(percentile([5, 1, 3], 99)).toBe(5);
    expect(percentile([], 99)).toBeNaN();
  });
  it('a failed request counts as infinitely slow', () => {
    expect(percentile([10, 20, Infinity], 99)).toBe(Infinity);
  });
  it('pool keeps order and bounds concurrency', async () => {
    let inFlight = 0;
    let max = 0;
    const out = await pool(10, 3, async (i) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return i * 2;
    });
    expect(out).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(max).toBe(3);
  });
});
