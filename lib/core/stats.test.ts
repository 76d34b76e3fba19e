import { describe, expect, it } from 'vitest';
import { LatencyPacer, percentile, pool } from './stats';

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
  it('paces in-flight requests by latency: grows while answers stay fast, halves on a slow one, bounded', () => {
    const far = new LatencyPacer(32);
    expect(far.window).toBe(1);
    for (let i = 0; i < 40; i++) far.observe(300 + (i % 7));
    expect(far.window).toBe(32);
    far.observe(700);
    expect(far.window).toBe(16);
    far.observe(374);
    expect(far.window).toBe(17);
    far.observe(380);
    expect(far.window).toBe(8);

    // A near API whose latency grows with the requests in flight never gets more than a couple at once.
    const near = new LatencyPacer(32);
    const windows: number[] = [];
    for (let i = 0; i < 100; i++) {
      near.observe(4 * near.window + 1);
      windows.push(near.window);
    }
    expect(Math.max(...windows)).toBeLessThanOrEqual(2);

    const failing = new LatencyPacer(32);
    failing.observe(Infinity);
    failing.observe(Infinity);
    expect(failing.window).toBe(1);
    for (let i = 0; i < 3; i++) failing.observe(50);
    expect(failing.window).toBe(4);
    failing.observe(Infinity);
    expect(failing.window).toBe(2);

    const one = new LatencyPacer(1);
    for (let i = 0; i < 5; i++) one.observe(10);
    expect(one.window).toBe(1);
  });
});
