import { describe, expect, it } from 'vitest';
import { firstWindow, minWorkMs, pacedWindow, pacingReach, percentile, serverWork } from './stats';

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
  it('paces a sample so the server works on about one request at a time', () => {
    // Unknown distance or no latency yet: one at a time.
    expect(pacedWindow(undefined, [300], 32)).toBe(1);
    expect(pacedWindow(300, [], 32)).toBe(1);
    expect(pacedWindow(Infinity, [300], 32)).toBe(1);
    // Far: 300 ms of travel, 5 ms of work.
    expect(pacedWindow(300, [305, 306, 304], 32)).toBe(32);
    // 100 ms of travel, 8 ms of work: 13 in flight keep about one in the server.
    expect(pacedWindow(100, [108], 32)).toBe(13);
    // Near: 2 ms of travel, 4 ms of work; and a server slow for its own reasons (cold cache) at any distance.
    expect(pacedWindow(2, [6, 5, 7], 32)).toBe(1);
    expect(pacedWindow(100, [3000, 3100], 32)).toBe(1);
    // A /health slowed by load says nothing of distance once a search answers faster: the fastest is the travel.
    expect(pacedWindow(2000, [40, 2100, 2200, 2150], 32)).toBe(1);
    // The typical latency is recent: a cold start does not hold the window down once answers are fast again.
    expect(pacedWindow(300, [3000, 3000, 3000, ...Array(10).fill(304)], 32)).toBe(32);
    expect(pacedWindow(50, [40], 4)).toBe(4);
  });
  it("reckons the server's share of a request, never below the least pacing allows", () => {
    expect(serverWork(undefined, [300])).toBeUndefined();
    expect(serverWork(100, [])).toBeUndefined();
    expect(serverWork(100, [108, 110, 109])).toEqual({ typicalMs: 109, workMs: 9 });
    // Faster than the distance says, or within a millisecond of it: jitter, not work.
    expect(serverWork(100, [100.5, 101])).toEqual({ typicalMs: 100.5, workMs: minWorkMs });
    expect(pacingReach(0)).toBe(1);
    expect(pacingReach(300)).toBe(300 / minWorkMs + 1);
    expect(pacedWindow(300, [301], 1000)).toBeLessThanOrEqual(pacingReach(300));
  });
  it("starts a sample's slow start from earlier answers, never above their own concurrency", () => {
    // No earlier answers, or no distance: one, as before.
    expect(firstWindow(300, [], 32, 4)).toBe(1);
    expect(firstWindow(undefined, [305, 306], 32, 4)).toBe(1);
    // Far and cheap: as many as the earlier requests had in flight, not the whole window.
    expect(firstWindow(300, [305, 306], 32, 4)).toBe(4);
    // Near, or cold: pacing says one, and the cap does not raise it.
    expect(firstWindow(2, [6, 5], 32, 4)).toBe(1);
    expect(firstWindow(300, [900, 1200], 32, 4)).toBe(1);
    // 100 ms away, 40 ms of work: pacing allows three.
    expect(firstWindow(100, [140, 140], 32, 4)).toBe(3);
    // A cap of nothing still sends one.
    expect(firstWindow(300, [305], 32, 0)).toBe(1);
  });
});
