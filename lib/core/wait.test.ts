import { afterEach, describe, expect, it, vi } from 'vitest';
import { WaitTimeout } from './errors';
import { waitUntil } from './wait';

afterEach(() => vi.useRealTimers());

describe('waitUntil', () => {
  it('returns as soon as the probe is ready', async () => {
    let n = 0;
    const r = await waitUntil(async () => (++n >= 3 ? { ready: true, value: n } : { ready: false, last: `n=${n}` }), {
      what: 'x',
      intervalMs: 1,
    });
    expect(r.value).toBe(3);
  });

  it('times out with the target, the budget and the last state seen', async () => {
    vi.useFakeTimers();
    const p = waitUntil(async () => ({ ready: false, last: 'HTTP 503' }), {
      what: 'GET /health → 200',
      timeoutMs: 1000,
      intervalMs: 100,
    });
    const check = expect(p).rejects.toThrow('GET /health → 200 not ready after 1000 ms (last: HTTP 503)');
    await vi.advanceTimersByTimeAsync(1200);
    await check;
    await expect(p).rejects.toBeInstanceOf(WaitTimeout);
  });

  it('a probe that knows the wait is lost ends it at once with its error, long before the budget', async () => {
    let n = 0;
    const lost = new Error('the engine rolled back api');
    const started = performance.now();
    const p = waitUntil(
      async () => (++n < 3 ? { ready: false, last: 'updating' } : { ready: false, last: 'rolled back', fatal: lost }),
      { what: 'api converged', timeoutMs: 60_000, intervalMs: 1 },
    );
    await expect(p).rejects.toBe(lost);
    expect(n).toBe(3);
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it('a throwing probe counts as not ready', async () => {
    let n = 0;
    const r = await waitUntil(
      async () => {
        if (++n < 2) throw new Error('ECONNREFUSED');
        return { ready: true, value: 'up' };
      },
      { what: 'x', intervalMs: 1 },
    );
    expect(r.value).toBe('up');
  });

  it('a wake-up polls at once instead of sleeping out the interval', async () => {
    let ready = false;
    let poke: () => void = () => {};
    const started = performance.now();
    setTimeout(() => {
      ready = true;
      poke();
    }, 20);
    await waitUntil(async () => (ready ? { ready: true, value: 1 } : { ready: false, last: 'no' }), {
      what: 'x',
      intervalMs: 10_000,
      wake: (poll) => {
        poke = poll;
        return () => {};
      },
    });
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
