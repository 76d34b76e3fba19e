import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PacedSample, openUpTo, type PacedSampleOptions, type Timed } from './sampler';

const queries = ['a', 'b', 'c', 'd', 'e'];

/** A server `latencyMs` away that records what it was asked and how much it had in flight. */
function server(latencyMs = 5, answer: (q: string, i: number) => Timed = () => ({ ms: latencyMs, why: null })) {
  const log = { asked: [] as string[], at: [] as number[], inFlight: 0, most: 0, mostFor: new Map<string, number>() };
  const flying = new Map<string, number>();
  const request = (q: string): Promise<Timed> => {
    const i = log.asked.length;
    log.asked.push(q);
    log.at.push(performance.now());
    log.inFlight++;
    log.most = Math.max(log.most, log.inFlight);
    flying.set(q, (flying.get(q) ?? 0) + 1);
    log.mostFor.set(q, Math.max(log.mostFor.get(q) ?? 0, flying.get(q)!));
    return new Promise((r) =>
      setTimeout(() => {
        log.inFlight--;
        flying.set(q, flying.get(q)! - 1);
        r(answer(q, i));
      }, latencyMs),
    );
  };
  return { log, request };
}

const options = (request: PacedSampleOptions['request'], o: Partial<PacedSampleOptions> = {}): PacedSampleOptions => ({
  n: 40,
  queries,
  maxShare: 0.4,
  maxInFlight: 8,
  maxInFlightPerQuery: 3,
  distanceMs: () => 4,
  bad: (r) => r.ms === null || r.ms >= 2000,
  badAllowed: 0,
  request,
  ...o,
});

describe('PacedSample', () => {
  it('takes n samples, every query at least once and none more than its share, within both in-flight limits', async () => {
    // 1 ms of a 20 ms request is the server's: pacing alone would keep 10 in flight.
    const { log, request } = server(20);
    const s = new PacedSample(options(request, { distanceMs: () => 19 }));
    const done = s.run();
    s.answeredElsewhere(20, 'a');
    s.allowCold(2);
    await done;
    expect(s.samples).toHaveLength(40);
    expect(log.asked).toHaveLength(40);
    for (const q of queries) {
      expect(s.asked.get(q)).toBeGreaterThanOrEqual(1);
      expect(s.asked.get(q)).toBeLessThanOrEqual(16);
      expect(log.mostFor.get(q)).toBeLessThanOrEqual(3);
    }
    expect(log.most).toBeLessThanOrEqual(8);
    expect(s.stoppedEarly).toBeNull();
  });

  it('asks nothing until a query has answered elsewhere or cold ones may go, and then only that query', async () => {
    const { log, request } = server();
    const s = new PacedSample(options(request, { n: 10, maxShare: 0.4 }));
    const done = s.run();
    await new Promise((r) => setTimeout(r, 20));
    expect(log.asked).toEqual([]);
    s.answeredElsewhere(5, 'c');
    await new Promise((r) => setTimeout(r, 30));
    // 'c' may take at most 4 of 10, and must leave a place for each of the four not asked yet.
    expect(new Set(log.asked)).toEqual(new Set(['c']));
    expect(log.asked.length).toBeLessThanOrEqual(4);
    s.allowCold(1);
    await done;
    expect(s.samples).toHaveLength(10);
  });

  it('keeps no more in flight for one query than its limit, however wide the window', async () => {
    const { log, request } = server(20);
    const s = new PacedSample(options(request, { n: 10, maxShare: 0.5, distanceMs: () => 19 }));
    const done = s.run();
    s.answeredElsewhere(20, 'a');
    await new Promise((r) => setTimeout(r, 15));
    expect(log.asked.length).toBe(3);
    s.allowCold(8);
    await done;
    expect(log.mostFor.get('a')).toBe(3);
    expect(log.most).toBeGreaterThan(3);
  });

  it('leaves a place for every query not asked yet, however many one query may take', async () => {
    const { request } = server(5);
    const s = new PacedSample(options(request, { n: 10, maxShare: 0.8 }));
    const done = s.run();
    s.answeredElsewhere(5, 'c');
    await new Promise((r) => setTimeout(r, 60));
    expect(s.asked.get('c')).toBe(6);
    s.allowCold(4);
    await done;
    expect([...s.asked.keys()].sort()).toEqual(queries);
  });

  it('sends cold queries a window at a time, the first window as given', async () => {
    const { log, request } = server(10);
    const s = new PacedSample(options(request, { n: 5, maxShare: 0.2, maxInFlight: 8 }));
    const done = s.run();
    s.allowCold(2);
    await new Promise((r) => setTimeout(r, 5));
    expect(log.asked).toEqual(['a', 'b']);
    await done;
    expect(log.asked).toEqual(queries);
  });

  it('does not ask first a query another request is asking, and asks it once that one answered', async () => {
    const { log, request } = server(5);
    let elsewhere = true;
    const s = new PacedSample(
      options(request, { n: 5, maxShare: 0.2, askedElsewhere: (q) => elsewhere && (q === 'a' || q === 'b') }),
    );
    const done = s.run();
    s.allowCold(8);
    await new Promise((r) => setTimeout(r, 30));
    expect(new Set(log.asked)).toEqual(new Set(['c', 'd', 'e']));
    s.answeredElsewhere(5, 'a');
    // The other request for 'b' ended without an answer: 'b' is cold again, and the sample asks it first.
    elsewhere = false;
    s.wake();
    await done;
    expect(log.asked.slice(3).sort()).toEqual(['a', 'b']);
  });

  it('never has more in flight than connections are open, but never stalls with none', async () => {
    const { log, request } = server(5);
    let open = 0;
    const s = new PacedSample(options(request, { n: 12, maxShare: 0.4, connections: () => open }));
    const done = s.run();
    s.allowCold(8);
    await new Promise((r) => setTimeout(r, 30));
    // Nothing open: one at a time, so the sample still ends.
    expect(log.most).toBe(1);
    open = 3;
    s.wake();
    await done;
    expect(log.most).toBeLessThanOrEqual(3);
    expect(s.samples).toHaveLength(12);
  });

  it.each([
    ['counts a request alongside in its paced window', 2, 1],
    ['but not in its connections: one alongside goes on a connection of its own', 8, 2],
  ])('%s', async (_, firstWindow, mostBeside) => {
    const { log, request } = server(5);
    const s = new PacedSample(options(request, { n: 30, maxShare: 0.4, connections: () => 2 }));
    let releaseBeside = () => {};
    const beside = s.alongside(new Promise<void>((r) => (releaseBeside = r)));
    const done = s.run();
    s.allowCold(firstWindow);
    await new Promise((r) => setTimeout(r, 30));
    expect(log.most).toBe(mostBeside);
    releaseBeside();
    await beside;
    await done;
    expect(log.most).toBe(2);
    expect(s.samples).toHaveLength(30);
  });

  it('spaces requests one server share apart', async () => {
    // 10 ms of a 50 ms request is the server's: ten ms apart, with one late timer made up at most.
    const { log, request } = server(50, () => ({ ms: 50, why: null }));
    const s = new PacedSample(options(request, { n: 12, maxShare: 0.5, maxInFlight: 12, distanceMs: () => 40 }));
    const done = s.run();
    s.answeredElsewhere(50, 'a');
    s.answeredElsewhere(50, 'b');
    s.allowCold(1);
    await done;
    for (let i = 2; i < log.at.length; i++) expect(log.at[i]! - log.at[0]!).toBeGreaterThanOrEqual((i - 1) * 10 - 2);
  });

  it("paces repeats by the repeats' answers: a slow first ask does not slow the ones after it", async () => {
    // 'a' is answered elsewhere (40 ms away, 10 of it the server's); every first ask costs the database 200 ms
    // more, every repeat nothing. Repeats go 10 ms apart (40 of 50 ms is travel), not 1 s apart by the first asks'.
    const firstAsked = new Set<string>();
    const { log, request } = server(50, (q) => {
      const first = !firstAsked.has(q);
      firstAsked.add(q);
      return { ms: first ? 250 : 50, why: null };
    });
    const s = new PacedSample(options(request, { n: 20, maxShare: 0.5, maxInFlight: 20, distanceMs: () => 40 }));
    const done = s.run();
    s.answeredElsewhere(50, 'a');
    s.allowCold(2);
    await done;
    const at = log.at.map((t) => t - log.at[0]!);
    expect(at.at(-1)).toBeLessThan(600);
  });

  it('until its own answers come, paces by a repeat answered elsewhere rather than by first asks answered there', async () => {
    // Three first asks answered elsewhere took 250 ms (200 of them the database's); a repeat took 50, 10 of them
    // the server's. Five may be in flight, 10 ms apart (the first two together, as a late timer's are); by the
    // first asks, one at a time, 210 ms apart.
    const { log, request } = server(50, () => ({ ms: 50, why: null }));
    const s = new PacedSample(options(request, { n: 6, maxShare: 0.5, maxInFlight: 6, distanceMs: () => 40 }));
    for (const q of ['c', 'd', 'e']) s.answeredElsewhere(250, q, true);
    s.answeredElsewhere(50, 'a', false);
    s.answeredElsewhere(50, 'b', false);
    await s.run();
    const at = log.at.map((t) => t - log.at[0]!);
    expect(at[1]).toBeLessThan(30);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(8);
    expect(at[2]! - at[1]!).toBeLessThan(30);
  });

  it('stops at the first failure the p99 cannot hold, and ends with nothing in flight', async () => {
    const { log, request } = server(5, (q, i) =>
      i === 3 ? { ms: null, why: `${q}: HTTP 500` } : { ms: 5, why: null },
    );
    const s = new PacedSample(options(request, { n: 40 }));
    const done = s.run();
    s.allowCold(4);
    await done;
    expect(s.stoppedEarly).toMatch(/failed and settled the p99/);
    expect(log.inFlight).toBe(0);
    expect(s.samples.length).toBeLessThan(40);
  });

  it('ends when stopped before anything was sent', async () => {
    const { log, request } = server();
    const s = new PacedSample(options(request));
    const done = s.run();
    s.stop('no connection opened');
    await done;
    expect(log.asked).toEqual([]);
    expect(s.stoppedEarly).toBe('no connection opened');
  });

  it('refuses queries that cannot share the sample', () => {
    expect(
      () => new PacedSample(options(() => Promise.resolve({ ms: 1, why: null }), { n: 40, maxShare: 0.1 })),
    ).toThrow(/cannot share 40 samples/);
    expect(() => new PacedSample(options(() => Promise.resolve({ ms: 1, why: null }), { queries: [] }))).toThrow();
  });
});

describe('openUpTo', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  /** Opens that each take `ms`; the first to answer sets the reach to `learned`. */
  const opener = (initial: number, learned: number, ms = 20) => {
    let reach = initial;
    let open = 0;
    return {
      reach: () => reach,
      opened: () => open,
      open: () =>
        new Promise<void>((r) =>
          setTimeout(() => {
            open++;
            reach = learned;
            r();
          }, ms),
        ),
    };
  };

  it('opens up to the reach, one interval apart', async () => {
    const o = opener(5, 5);
    const at: number[] = [];
    const t0 = Date.now();
    const done = openUpTo(o.reach, () => (at.push(Date.now() - t0), o.open()), { intervalMs: 2 });
    await vi.advanceTimersByTimeAsync(100);
    expect(await done).toBe(5);
    expect(o.opened()).toBe(5);
    expect(at).toEqual([0, 2, 4, 6, 8]);
  });

  it('keeps the interval from the start of each open, whatever starting one costs the client', async () => {
    // Each open keeps the client busy for 1.5 ms before it returns, as a TLS handshake's first flight does. The
    // clock is well past zero, as a process's is.
    vi.advanceTimersByTime(10_000);
    const o = opener(6, 6);
    const at: number[] = [];
    const t0 = performance.now();
    const done = openUpTo(
      o.reach,
      () => {
        at.push(performance.now() - t0);
        vi.advanceTimersByTime(1.5);
        return o.open();
      },
      { intervalMs: 2 },
    );
    await vi.advanceTimersByTimeAsync(100);
    expect(await done).toBe(6);
    // Each in its own slot, 2 ms apart from the first, within the timer's 1 ms: never sooner, never pushed later.
    at.forEach((ms, k) => expect(ms - 2 * k).toBeGreaterThanOrEqual(0));
    at.forEach((ms, k) => expect(ms - 2 * k).toBeLessThanOrEqual(1));
  });

  it('opens more while the reach grows, up to where it stops', async () => {
    // A reach that grows by one every millisecond from 10 to 30: a far server's first answer still awaited.
    let reach = 10;
    const grow = setInterval(() => (reach = Math.min(30, reach + 1)), 1);
    const o = opener(0, 0, 500);
    const done = openUpTo(() => reach, o.open, { intervalMs: 2 });
    await vi.advanceTimersByTimeAsync(1000);
    clearInterval(grow);
    expect(await done).toBe(30);
  });

  it('while the reach grows, waits for it when caught up instead of ending, and ends once it stops growing', async () => {
    // A reach that grows by one every 10 ms, slower than the opening, until an answer fixes it at 6 at 45 ms.
    let reach = 1;
    let grows = true;
    const grow = setInterval(() => (reach += 1), 10);
    setTimeout(() => {
      clearInterval(grow);
      grows = false;
      reach = 6;
    }, 45);
    let issuedAt: number | undefined;
    const t0 = Date.now();
    const o = opener(0, 0, 5);
    const done = openUpTo(() => reach, o.open, {
      intervalMs: 2,
      reachGrows: () => grows,
      issued: () => (issuedAt = Date.now() - t0),
    });
    await vi.advanceTimersByTimeAsync(200);
    expect(await done).toBe(6);
    expect(issuedAt).toBeGreaterThanOrEqual(45);
    expect(issuedAt).toBeLessThanOrEqual(50);
  });

  it('stops short when the first answer shows the reach is smaller than first thought', async () => {
    // A reach of 50 at 2 ms apart issues opens until 20 ms, when the first answers: 10 of them, not 50.
    const o = opener(50, 3);
    const done = openUpTo(o.reach, o.open, { intervalMs: 2 });
    await vi.advanceTimersByTimeAsync(200);
    const opens = await done;
    expect(opens).toBeGreaterThanOrEqual(10);
    expect(opens).toBeLessThanOrEqual(11);
  });

  it('with settleFirst, opens one, waits for it to settle, and sizes the rest by what it learned', async () => {
    const o = opener(50, 3);
    let settled = false;
    const done = openUpTo(o.reach, o.open, {
      intervalMs: 2,
      settleFirst: async (first) => {
        await first;
        expect(o.opened()).toBe(1);
        await new Promise((r) => setTimeout(r, 10));
        settled = true;
      },
    });
    await vi.advanceTimersByTimeAsync(200);
    expect(await done).toBe(3);
    expect(settled).toBe(true);
  });

  it('with settleFirst not waiting for the first, opens the rest by the reach while the first is in flight', async () => {
    // The first answers at 20 ms; the rest may start at 5 ms, when the reach is still 50: 8 opens by then.
    const o = opener(50, 3);
    let firstDone = false;
    let issuedAt: number | undefined;
    const t0 = Date.now();
    const done = openUpTo(o.reach, o.open, {
      intervalMs: 2,
      settleFirst: async (first) => {
        void first.then(() => (firstDone = true));
        await new Promise((r) => setTimeout(r, 5));
        expect(firstDone).toBe(false);
      },
      issued: () => (issuedAt = Date.now() - t0),
    });
    await vi.advanceTimersByTimeAsync(200);
    const opens = await done;
    expect(opens).toBeGreaterThanOrEqual(8);
    expect(opens).toBeLessThanOrEqual(9);
    // No more were issued once the first answered, well before all of them settled.
    expect(issuedAt).toBeGreaterThanOrEqual(20);
    expect(issuedAt).toBeLessThan(30);
  });

  it('opens none past a reach that fell below what is already open', async () => {
    const o = opener(4, 1);
    const done = openUpTo(o.reach, o.open, { intervalMs: 2, settleFirst: (first) => first });
    await vi.advanceTimersByTimeAsync(200);
    expect(await done).toBe(1);
  });
});
