// A latency sample that never measures the load it makes itself: requests are paced so that the server works on
// about one of them at a time, sent one server's share apart rather than in bursts, each on a connection already
// open, and a query nobody has answered yet (a cold one, which costs the server most) goes out only a few at a time.
import { pacedWindow, serverWork } from './stats.js';

export interface Timed {
  /** The request's latency, or null when it failed. */
  ms: number | null;
  /** Why it failed. */
  why: string | null;
}

export interface PacedSampleOptions {
  /** Samples to take. */
  n: number;
  /** What to ask, first to last. Each is asked at least once, and none more than `maxShare` of n times. */
  queries: readonly string[];
  maxShare: number;
  /** Most of the sample's own requests in flight at once. */
  maxInFlight: number;
  /**
   * Most in flight at once for one query. A cache entry that expires while they fly sends every one of them
   * to the database together, as a stampede the server never meets from a sample spread over its queries.
   */
  maxInFlightPerQuery: number;
  /**
   * Connections open for the sample's own requests, less those busy with anything else (requests `alongside`
   * go on connections of their own). The sample sends only while one of them is idle, so none of its requests
   * waits for a connection or opens one: neither is the server's latency. With nothing in flight one goes
   * regardless, so a sample whose connections closed still ends. Call `wake()` when it grows. @default unlimited
   */
  connections?: () => number;
  /** The distance to the server (an answer that costs it nothing), once known. */
  distanceMs: () => number | undefined;
  /** An answer that counts against the verdict; once more than `badAllowed` have, the sample stops. */
  bad: (r: Timed) => boolean;
  badAllowed: number;
  /**
   * Requests beside the sample that cost the server what a cold query does (other checks asking it first), not
   * answered yet. Each takes a place in the cold window, so the sample's first asks and theirs never load the
   * server more together than the window allows. Call `answeredElsewhere` as each answers, or `wake` if it
   * failed. @default none
   */
  coldBeside?: () => number;
  /**
   * A query another request is asking now, its answer to come through `answeredElsewhere`: the sample does not
   * ask it first itself, which would send the same cold query to the server twice at once. @default none
   */
  askedElsewhere?: (query: string) => boolean;
  /** One request. It resolves with a failed Timed rather than rejecting. */
  request: (query: string) => Promise<Timed>;
}

export class PacedSample {
  /** The answers, in the order they came. */
  readonly samples: Timed[] = [];
  /** How often each query was asked. */
  readonly asked = new Map<string, number>();
  mostInFlight = 0;
  stoppedEarly: string | null = null;

  private readonly cap: number;
  private readonly answered = new Set<string>();
  private readonly flying = new Map<string, number>();
  private readonly seen: number[] = [];
  private readonly earlier: number[] = [];
  private readonly earlierRepeats: number[] = [];
  private readonly coldSeen: number[] = [];
  private sent = 0;
  private inFlight = 0;
  private coldInFlight = 0;
  private beside = 0;
  private coldWindow = 0;
  /** First asks answered before cold queries were allowed: slow start's growth, owed from then on. */
  private grownEarly = 0;
  private firstWindow = 1;
  private started = false;
  private nextAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private finish: () => void = () => {};
  private readonly finished = new Promise<void>((r) => (this.finish = r));

  constructor(private readonly o: PacedSampleOptions) {
    this.cap = Math.floor(o.maxShare * o.n);
    if (o.queries.length === 0 || o.queries.length > o.n || o.queries.length * this.cap < o.n)
      throw new Error(`${o.queries.length} queries cannot share ${o.n} samples at most ${this.cap} each`);
  }

  /** Starts sampling; resolves once every sample has answered, or the sample stopped and nothing is in flight. */
  run(): Promise<void> {
    this.started = true;
    this.pump();
    return this.finished;
  }

  /** Something the sample waits for changed (a connection opened): send what may go now. */
  wake(): void {
    this.pump();
  }

  /**
   * A search answered elsewhere a moment ago, in `ms` (one of the sample's queries, if `query` names it: asking it
   * again costs the server no cold work). Until the sample's own answers time the pacing, such answers do. A first
   * ask (by default, the first answer of a query the sample has not asked) grows the cold window as its own do.
   */
  answeredElsewhere(
    ms: number,
    query?: string,
    firstAsk = query !== undefined && !this.answered.has(query) && !this.asked.has(query),
  ): void {
    if (query !== undefined) this.answered.add(query);
    this.earlier.push(ms);
    if (firstAsk) this.coldAnswered(ms);
    else this.earlierRepeats.push(ms);
    this.pump();
  }

  /** Another request to the same server, in flight beside the sample, takes one of its places while it lasts. */
  async alongside<T>(request: Promise<T>): Promise<T> {
    this.beside++;
    try {
      return await request;
    } finally {
      this.beside--;
      this.pump();
    }
  }

  /**
   * Queries nobody has answered may go from now on, `window` in flight at first (those `coldBeside` counts
   * included), growing as they answer. Until the sample's own answers time the pacing, the whole sample may keep
   * `whole` in flight.
   */
  allowCold(window: number, whole = window): void {
    this.firstWindow = Math.max(1, whole);
    this.coldWindow = Math.max(this.coldWindow, Math.max(1, window) + this.grownEarly);
    this.pump();
  }

  stop(why: string): void {
    this.stoppedEarly ??= why;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pump();
  }

  /**
   * The answers that time the pacing: the sample's own to queries already answered once it has some, else those
   * answered elsewhere, repeats first. A first ask's answer carries the database's work on that query, which the
   * repeats paced by it do not: slow start (coldAnswered) takes those, and they time the pacing only while nothing
   * else can.
   */
  private timing(): number[] {
    if (this.seen.length) return this.seen;
    return this.earlierRepeats.length ? this.earlierRepeats : this.earlier;
  }

  /** How many requests pacing allows in flight at once: the sample's own and those alongside it. */
  private window(): number {
    const paced = pacedWindow(this.o.distanceMs(), this.timing(), this.o.maxInFlight);
    return this.seen.length ? paced : Math.max(paced, this.firstWindow);
  }

  /** One server's share of a request apart: the window fills evenly, never in a burst the server must queue. */
  private interval(): number {
    return serverWork(this.o.distanceMs(), this.timing())?.workMs ?? 0;
  }

  private pick(): { query: string; cold: boolean } | undefined {
    const count = (q: string) => this.asked.get(q) ?? 0;
    const room = (q: string) => (this.flying.get(q) ?? 0) < this.o.maxInFlightPerQuery;
    const cold = this.o.queries.find((q) => !this.asked.has(q) && !this.answered.has(q) && !this.o.askedElsewhere?.(q));
    if (cold !== undefined && this.coldInFlight + (this.o.coldBeside?.() ?? 0) < this.coldWindow)
      return { query: cold, cold: true };
    let warm: string | undefined;
    for (const q of this.o.queries)
      if (this.answered.has(q) && count(q) < this.cap && room(q) && (warm === undefined || count(q) < count(warm)))
        warm = q;
    if (warm === undefined) return undefined;
    // Every query is asked at least once: a repeat leaves a place for each one not asked yet.
    const notAsked = this.o.queries.filter((q) => !this.asked.has(q)).length;
    if (count(warm) > 0 && this.o.n - this.sent <= notAsked) return undefined;
    return { query: warm, cold: false };
  }

  /**
   * Slow start for first asks: one more per answer (`ms` null when it failed), never more than the pacing of the
   * first asks timed so far allows.
   */
  private coldAnswered(ms: number | null): void {
    if (ms !== null) this.coldSeen.push(ms);
    if (this.coldWindow === 0) {
      this.grownEarly++;
      return;
    }
    // No answer timed yet, or no distance to time one against: nothing says to grow more slowly than by one.
    const work = serverWork(this.o.distanceMs(), this.coldSeen);
    const paced = work ? pacedWindow(this.o.distanceMs(), this.coldSeen, this.o.queries.length) : Infinity;
    this.coldWindow = Math.max(1, Math.min(this.coldWindow + 1, paced));
  }

  private pump(): void {
    if (!this.started || this.timer) return;
    const idle = () => this.inFlight < Math.max(1, this.o.connections?.() ?? Infinity);
    while (!this.stoppedEarly && this.sent < this.o.n && this.inFlight + this.beside < this.window() && idle()) {
      const next = this.pick();
      if (!next) break;
      const now = performance.now();
      if (this.nextAt > now) {
        this.timer = setTimeout(
          () => {
            this.timer = undefined;
            this.pump();
          },
          Math.ceil(this.nextAt - now),
        );
        break;
      }
      // A timer that fires late is made up for at once, never by more than one request.
      const interval = this.interval();
      this.nextAt = Math.max(this.nextAt, now - interval) + interval;
      this.send(next.query, next.cold);
    }
    if (this.inFlight === 0 && !this.timer && (this.stoppedEarly || this.sent >= this.o.n)) this.finish();
  }

  private send(query: string, cold: boolean): void {
    this.sent++;
    this.inFlight++;
    if (cold) this.coldInFlight++;
    this.asked.set(query, (this.asked.get(query) ?? 0) + 1);
    this.flying.set(query, (this.flying.get(query) ?? 0) + 1);
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    void this.o
      .request(query)
      .catch((e: Error): Timed => ({ ms: null, why: `${query}: ${e.message}` }))
      .then((r) => {
        this.inFlight--;
        this.flying.set(query, this.flying.get(query)! - 1);
        this.samples.push(r);
        if (r.ms !== null) {
          if (!cold) this.seen.push(r.ms);
          this.answered.add(query);
        }
        if (cold) {
          this.coldInFlight--;
          this.coldAnswered(r.ms);
        }
        if (!this.stoppedEarly && this.samples.filter(this.o.bad).length > this.o.badAllowed)
          this.stoppedEarly = `sample ${this.samples.length} ${r.ms === null ? 'failed' : 'was slow'} and settled the p99`;
        this.pump();
      });
  }
}

/**
 * Opens connections `intervalMs` apart, the pace of a sample at its fastest (new connections reach the server one
 * at a time, not as a burst of handshakes that would queue everything else it is answering), for as long as fewer
 * than `reach()` are open, read again before each: a reach that grows while they open (a far server's first answer
 * still awaited) opens more, and one that shrinks (that answer come) stops the opening short. While `reachGrows()`,
 * an opening that has caught up with the reach waits for it rather than ending. With `settleFirst`, one is opened
 * first and the rest wait until `settleFirst(first)` resolves; it decides whether to wait for that first open.
 * `issued` is called once no more will be opened. Resolves with how many it opened, once all have settled.
 */
export async function openUpTo(
  reach: () => number,
  open: () => Promise<unknown>,
  o: {
    intervalMs: number;
    settleFirst?: (first: Promise<void>) => Promise<unknown>;
    reachGrows?: () => boolean;
    issued?: () => void;
  },
): Promise<number> {
  const opened: Promise<unknown>[] = [];
  // Paced from when each open began, not from when its own work ended: starting a handshake costs the client a
  // millisecond or more, which would otherwise stretch every interval by as much. One late is made up at once.
  let dueAt = performance.now();
  const one = () => {
    dueAt = Math.max(dueAt, performance.now() - o.intervalMs) + o.intervalMs;
    const p = open().then(() => undefined);
    opened.push(p);
    return p;
  };
  const until = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, Math.ceil(at - performance.now()))));
  if (o.settleFirst && reach() > 0) {
    await o.settleFirst(one());
    dueAt = performance.now();
  }
  for (;;) {
    const opens = opened.length < reach();
    if (opens) one();
    else if (!o.reachGrows?.()) break;
    if (opened.length < reach() || o.reachGrows?.()) await until(opens ? dueAt : performance.now() + o.intervalMs);
  }
  o.issued?.();
  await Promise.all(opened);
  return opened.length;
}
