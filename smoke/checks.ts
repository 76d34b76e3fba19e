// The smoke checks of runbook section 3, shared by `npm run smoke` and rollback verification (step 6). Each
// records one structured measurement and asserts it with the catalogue's judge, the same one the gate re-runs.
import type { TestContext } from 'vitest';
import { check, type Check } from '../lib/harness/check';
import { target } from '../lib/harness/run';
import { settingOf } from '../lib/harness/config';
import { replicaOrigin } from '../lib/harness/replicas';
import { connectionsOpen, connectionsPerOrigin, get, json, openAhead, walkRedirects } from '../lib/probes/http';
import { peerCertificate } from '../lib/probes/tls';
import { entry, maxRedirects, meets, titleOf, type CheckId } from '../runbook/catalogue';
import { firstWindow, minWorkMs, nearApiMs, pacingReach } from '../lib/core/stats';
import { PacedSample, openUpTo, type Timed } from '../lib/core/sampler';
import { waitUntil } from '../lib/core/wait';

// Read on first use, inside a phase run: the bench and the harness's tests import this module for its queries.
const t = () => target();
const api = (path: string) => `${t().apiUrl}${path}`;
const http = () => ({ caFile: t().caFile });

/** One GET whose body should be a JSON object; a body that is not says what it was instead. */
async function getJson(c: Check, path: string, headers?: Record<string, string>) {
  const res = await c.probe(() => get(api(path), { ...http(), headers }));
  const body = json(res);
  return {
    http: res.status,
    body: body.ok ? body.value : ({} as Record<string, unknown>),
    problem: body.ok ? null : body.problem,
    ms: res.ms,
    exchangeMs: res.exchangeMs,
    path,
  };
}

/** The checks of this run whose request has been answered, or which ended without one, by title. */
const answered = new Set<string>();
type Answer = { http: number; exchangeMs: number; path: string };
const answerListeners = new Set<(title: string, answer?: Answer) => void>();

/**
 * A check's request has been answered (`answer`), or the check ended without one: the checks that wait for it
 * may go. Said once a check; later calls change nothing.
 */
export function answeredFor(ctx: TestContext, answer?: Answer): void {
  if (answered.has(ctx.task.name)) return;
  answered.add(ctx.task.name);
  for (const l of answerListeners) l(ctx.task.name, answer);
}

/** The named checks of this run not answered yet: a check filtered out or skipped is never waited for. */
function unanswered(ctx: TestContext, ids: readonly CheckId[]): number {
  const titles = new Set(ids.map(titleOf));
  return (ctx.task.suite?.tasks ?? []).filter((x) => titles.has(x.name) && x.mode === 'run' && !answered.has(x.name))
    .length;
}

/** Waits until the named checks have their answers, woken by each answer. */
export async function answersOf(ctx: TestContext, ids: readonly CheckId[], timeoutMs = 50_000): Promise<void> {
  await waitUntil(
    async () => {
      const left = unanswered(ctx, ids);
      return left ? { ready: false, last: `${left} not answered yet` } : { ready: true, value: null };
    },
    {
      what: `the answers of ${ids.join(', ')}`,
      timeoutMs,
      intervalMs: 250,
      wake: (poll) => {
        answerListeners.add(poll);
        return () => answerListeners.delete(poll);
      },
    },
  );
}

/**
 * Smoke 3, 4, 5 and 8 ask the database what nobody may have asked it for a while, as smoke 9's cold queries do.
 * Until each has answered it holds a place in the sample's cold window, and its answer, if 200, times the pacing.
 */
const firstAskIds: readonly CheckId[] = ['smoke.3', 'smoke.4', 'smoke.5', 'smoke.8'];

const objects = (v: unknown): Array<Record<string, unknown>> =>
  Array.isArray(v)
    ? v.filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null && !Array.isArray(p))
    : [];
const searchUsd = (q: string, limit: number) => `/v1/search?q=${encodeURIComponent(q)}&limit=${limit}&currency=USD`;

export async function health(ctx: TestContext, id: CheckId = 'smoke.1') {
  const c = check(ctx, id);
  const a = await getJson(c, '/health');
  c.judge({ http: a.http, status: a.problem ?? a.body.status ?? null, build: a.body.build ?? null, ms: a.ms });
}

/**
 * Each API replica's own /health, on its local port (API local URL + task slot - 1, as the staging swarm's replicas
 * sit), against the build Docker says its image was built from. An engine that does not answer is a could-not-check
 * (advisory), and so is a smoke with no stack to ask at all (a remote staging), which does not fail the run.
 */
export async function replicaHealth(ctx: TestContext, id: CheckId = 'smoke.replicas') {
  const c = check(ctx, id);
  const local = settingOf(t(), 'apiLocalUrl');
  const stack = (['orchestrator', 'composeProject', 'projectDir', 'composeFile', 'swarmFile'] as const).every(
    (k) => settingOf(t(), k) !== undefined,
  );
  // A smoke of a remote staging (CI) has neither: its public checks stand alone, and this one is a could-not-check
  // that says why, without failing a run whose blocking checks passed.
  if (!local || !stack)
    c.nothingToAsk('this smoke has no local API address or engine to ask (a remote smoke); the public checks stand');
  const { replicas, desired } = await c.probe(async () => {
    // Loaded here, not with the module: the other checks never ask the engine.
    const [{ orchestratorFor }, { imageInfo }, { revisionOf }] = await Promise.all([
      import('../lib/operations/orchestrators'),
      import('../lib/probes/docker'),
      import('../lib/operations/rollback-state'),
    ]);
    const orchestrator = orchestratorFor(t());
    // How many the engine means to run, beside those that run: a task that never came up asks no /health.
    const [found, inventory] = await Promise.all([orchestrator.replicas('api'), orchestrator.inventory()]);
    return {
      desired: inventory.services.find((s) => s.service === 'api')?.desired ?? null,
      replicas: await Promise.all(
        found.map(async (r) => ({ ...r, runs: revisionOf(await imageInfo(r.imageId)) ?? null })),
      ),
    };
  });
  if (!replicas.length) c.couldNotCheck('the engine this smoke can ask runs no API replica of this project');
  const measured = await Promise.all(
    replicas.map(async (r) => {
      const origin = replicaOrigin(local!, r.slot);
      const base = { slot: r.slot ?? 1, node: r.node ?? 'this host', url: origin, runs: r.runs };
      try {
        const res = await get(`${origin}/health`, http());
        const body = json(res);
        const build = body.ok ? (body.value as { build?: unknown }).build : undefined;
        return { ...base, http: res.status, build: typeof build === 'string' ? build : null };
      } catch (err) {
        return { ...base, http: null, build: null, problem: (err as Error).message.split('\n')[0] };
      }
    }),
  );
  c.judge({ desired, replicas: measured });
}

export async function detailedHealth(ctx: TestContext, id: CheckId = 'smoke.2') {
  const c = check(ctx, id);
  const a = await getJson(c, '/health/detailed');
  answeredFor(ctx, a);
  c.judge({
    http: a.http,
    status: a.problem ?? a.body.status ?? null,
    db_response_ms: a.body.db_response_ms ?? null,
    dependencies: a.body.dependencies ?? null,
  });
}

export async function products(ctx: TestContext, id: CheckId = 'smoke.3') {
  const c = check(ctx, id);
  const a = await getJson(c, '/v1/products?limit=1');
  answeredFor(ctx, a);
  c.judge({
    http: a.http,
    total: a.problem ?? a.body.total ?? null,
    products: Array.isArray(a.body.products) ? objects(a.body.products).length : null,
  });
}

export async function searchLaptop(ctx: TestContext, id: CheckId = 'smoke.4') {
  const c = check(ctx, id);
  const a = await getJson(c, runbookSearches.smoke4);
  answeredFor(ctx, a);
  const items = Array.isArray(a.body.products) ? (a.body.products as unknown[]) : [];
  const found = objects(items);
  const priced = found.filter(
    (p) => p.currency === 'USD' && typeof p.price === 'number' && Number.isFinite(p.price) && p.price > 0,
  );
  c.judge({
    http: a.http,
    total: a.problem ?? a.body.total ?? null,
    usd_priced: priced.length,
    currencies: [...new Set(found.map((p) => p.currency ?? null))],
    not_objects: items.length - found.length,
  });
}

export async function searchIphone(ctx: TestContext, id: CheckId = 'smoke.5') {
  const c = check(ctx, id);
  const a = await getJson(c, runbookSearches.smoke5);
  answeredFor(ctx, a);
  const first = Array.isArray(a.body.products) ? (a.body.products as unknown[])[0] : undefined;
  const name = typeof first === 'object' && first !== null ? (first as Record<string, unknown>).name : undefined;
  c.judge({ http: a.http, total: a.problem ?? a.body.total ?? null, first_product: name ?? null });
}

export async function affiliateRedirect(ctx: TestContext, id: CheckId = 'smoke.6') {
  const c = check(ctx, id);
  const chain = await c.probe(() =>
    walkRedirects(api('/go/B09G9HDHJT'), {
      ...http(),
      allowedOrigins: [new URL(t().apiUrl).origin],
      maxHops: maxRedirects,
    }),
  );
  c.judge({ statuses: chain.hops.map((h) => h.status), final: chain.finalUrl, problem: chain.problem ?? null });
}

export async function mcpHealth(ctx: TestContext, id: CheckId = 'smoke.7') {
  const c = check(ctx, id);
  const res = await c.probe(() => get(`${t().mcpUrl}/health`, http()));
  const body = json(res);
  c.judge({ http: res.status, status: body.ok ? (body.value.status ?? null) : body.problem });
}

export async function catalogStatus(ctx: TestContext, id: CheckId = 'smoke.8') {
  const c = check(ctx, id);
  if (t().apiKey.isEmpty) c.couldNotCheck('BUYWHERE_API_KEY is not set: smoke 8 cannot authenticate');
  const a = await getJson(c, '/v1/status', { authorization: `Bearer ${t().apiKey.reveal()}` });
  answeredFor(ctx, a);
  // The error body is what Bolt needs to see; an API that echoes the key back has it scrubbed before any sink.
  c.judge({
    http: a.http,
    total_active_products: a.problem ?? a.body.total_active_products ?? null,
    error: typeof a.body.error === 'string' ? a.body.error.slice(0, 200) : null,
  });
}

/** The runbook's own searches: smoke 9's, then smoke 4's and 5's. */
const runbookSearches = {
  smoke9: searchUsd('phone', 5),
  smoke4: searchUsd('laptop', 3),
  smoke5: searchUsd('iphone', 1),
};

/**
 * Smoke 9's sample asks the runbook's own searches first, exactly as smoke 9, 4 and 5 ask them (so their answers
 * tell it which are no longer cold), then terms across the catalogue: every one at least once, none for more than
 * a fifth of the sample, so no one cached query stands in for search.
 */
export const latencyQueries: readonly string[] = [
  runbookSearches.smoke9,
  runbookSearches.smoke4,
  runbookSearches.smoke5,
  ...['headphones', 'camera', 'monitor', 'tablet', 'smartwatch', 'console', 'coffee', 'ssd', 'tv'].map((q) =>
    searchUsd(q, 5),
  ),
];
const maxShare = 0.2;

/**
 * Smoke 3, 4, 5 and 8 go to the API together. Until its own answers time its pacing, the sample keeps no more in
 * flight than that, and fewer when the answers known so far were slow.
 */
const firstAsksTogether = firstAskIds.length;

/**
 * Smoke 9: the runbook's three requests one after another, and beside them a p99 sample of at least 100
 * searches, paced (lib/core/sampler.ts) so that it never measures its own load. Its connections are opened
 * ahead (TLS included, the first with a /health), and a sample goes only on one open and idle, so none times a
 * handshake the API's own histogram never sees; the runbook's first request, as curl's does, times its own. The
 * distance to the API is the latency of /health on an open connection.
 */
export async function searchLatency(
  ctx: TestContext,
  id: CheckId = 'smoke.9',
  order: { startAfter?: () => Promise<void> } = {},
) {
  const c = check(ctx, id);
  // One set of options for every request of the sample: get() keeps one connection pool for each, and the sample
  // counts the open connections of this one. The runbook's three requests have a pool of their own, as curl
  // would: none of them waits for a connection the sample holds.
  const sampleHttp = { ...http(), timeoutMs: 4000 };
  const runbookHttp = { ...sampleHttp, pool: 'smoke 9: the runbook requests' };
  const timed = async (path: string, opts = sampleHttp): Promise<Timed & { exchangeMs?: number }> => {
    const started = performance.now();
    const res = await get(api(path), opts).catch((e: Error) => e);
    const ms = performance.now() - started;
    const q = new URL(path, t().apiUrl).searchParams.get('q');
    if (res instanceof Error) return { ms: null, why: `${q}: ${res.message.split('\n')[0]}` };
    const body = json(res);
    const valid =
      res.status === 200 && body.ok && Array.isArray(body.value.products) && Number.isInteger(body.value.total);
    return valid
      ? { ms, why: null, exchangeMs: res.exchangeMs }
      : { ms: null, why: `${q}: HTTP ${res.status}${body.ok ? ', not a search body' : `, ${body.problem}`}` };
  };
  // Sampling stops once the verdict is certain: a failed request fails the check, and so does a slow one once
  // more samples are slow than the p99 of the full sample may hold. A stalled API costs one timeout, not fifty.
  const limit = entry(id).threshold!;
  const n = t().p99Samples;
  const bad = (r: Timed) => r.ms === null || !meets(r.ms, limit);
  // A /health's time, and its exchange alone (from its headers going out); undefined unless it answered 200.
  const health = async (onSent?: () => void): Promise<{ ms: number; exchangeMs: number } | undefined> => {
    const started = performance.now();
    const r = await get(api('/health'), { ...sampleHttp, onSent }).catch(() => undefined);
    return r?.status === 200 ? { ms: performance.now() - started, exchangeMs: r.exchangeMs } : undefined;
  };
  // Until the distance is measured on an open connection, the fastest answer that opened one bounds it from
  // above (its handshake is small beside a far API's round trip).
  let openedMs: number | undefined;
  let distanceMs: number | undefined;
  let busy = 0;
  // The most open at once: an idle connection closes after the agent's keep-alive, so the count at the end is only
  // those the last seconds used.
  let mostOpen = 0;
  const openNow = () => {
    const k = connectionsOpen(t().apiUrl, sampleHttp);
    mostOpen = Math.max(mostOpen, k);
    return k;
  };
  // Every connection of the sample's pool (the runbook's requests keep one of their own).
  const most = connectionsPerOrigin;
  const runbookThree: Array<Timed & { exchangeMs?: number }> = [];
  const sample = new PacedSample({
    n,
    queries: latencyQueries,
    maxShare,
    maxInFlight: most,
    // No query has more in flight than its share of the whole window.
    maxInFlightPerQuery: Math.ceil(most / latencyQueries.length),
    connections: () => openNow() - busy,
    distanceMs: () => distanceMs ?? openedMs,
    coldBeside: () => unanswered(ctx, firstAskIds),
    // Smoke 4 and 5 ask two of the sample's queries, and the runbook's first request a third.
    askedElsewhere: (q) =>
      q === runbookSearches.smoke4
        ? unanswered(ctx, ['smoke.4']) > 0
        : q === runbookSearches.smoke5
          ? unanswered(ctx, ['smoke.5']) > 0
          : q === runbookSearches.smoke9 && runbookThree.length === 0,
    bad,
    badAllowed: n - Math.ceil(0.99 * n),
    request: (q) => timed(q),
  });

  const runbookQuery = latencyQueries[0]!;
  const chain = async () => {
    for (let i = 0; i < 3 && !sample.stoppedEarly; i++) {
      const r = await sample.alongside(timed(runbookQuery, runbookHttp));
      runbookThree.push(r);
      // Pacing takes the exchange alone: the first request's handshake, timed as curl's is, is none of the server's.
      if (r.ms !== null) sample.answeredElsewhere(r.exchangeMs ?? r.ms, runbookQuery);
      if (bad(r)) sample.stop(`the runbook's request ${i + 1} ${r.ms === null ? 'failed' : `took ${r.ms} ms`}`);
    }
  };
  const running = chain();

  // A /health beside the sample holds one of its connections while it lasts. The distance is taken twice, each on
  // an open connection.
  const besideTheSample = async (onSent?: () => void) => {
    busy++;
    try {
      return await health(onSent);
    } finally {
      busy--;
      sample.wake();
    }
  };
  let measuringDistance: Promise<void> | undefined;
  let distanceTaken = false;
  const measureDistance = async () => {
    try {
      for (let i = 0; i < 2; i++) {
        const r = await besideTheSample();
        if (r) distanceMs = Math.min(distanceMs ?? Infinity, r.ms);
      }
    } finally {
      distanceTaken = true;
    }
  };
  // Handshakes of the connections being opened: work of the client's own, which slows every answer it times.
  let handshaking = 0;
  let issued = false;
  const handshakeWakers = new Set<() => void>();
  const shaken = () => {
    for (const w of handshakeWakers) w();
  };
  const handshake = () => {
    handshaking++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      handshaking--;
      shaken();
      sample.wake();
    };
  };
  // The first connection opens with a /health, whose answer says how far the API is. The rest open ahead, with
  // no request of their own, so each is idle for the sample as soon as its handshake is done, and only as many as
  // the distance calls for. Until the first answer comes, the API is at least as far as the time that answer has
  // been awaited since its headers went out, once that is past nearApiMs: far from the API the opening keeps pace
  // with the wait. An answer within nearApiMs is near: none open until the distance is measured on an open
  // connection. A later one bounds the distance until it is. Either way the sample waits until their handshakes
  // are done, and no sample is timed beside one: the client's own work, which the API's histogram never sees.
  let firstSentAt: number | undefined;
  let firstExchangeMs: number | undefined;
  let firstFailed = false;
  let firstSent: () => void = () => {};
  const sent = new Promise<void>((r) => (firstSent = r));
  const openFirst = async () => {
    const connected = handshake();
    const r = await besideTheSample(() => {
      firstSentAt = performance.now();
      connected();
      firstSent();
    }).finally(connected);
    firstSent();
    if (!r) {
      firstFailed = true;
      return;
    }
    openedMs = Math.min(openedMs ?? Infinity, r.ms);
    firstExchangeMs = r.exchangeMs;
    openNow();
    measuringDistance ??= measureDistance();
  };
  const openMore = () => {
    const connected = handshake();
    return openAhead(t().apiUrl, sampleHttp).then(() => {
      openNow();
      connected();
    }, connected);
  };
  let opens = 0;
  const openOne = () => (opens++ === 0 ? openFirst() : openMore());
  const near = () => firstExchangeMs !== undefined && firstExchangeMs < nearApiMs;
  const reach = () => {
    if (firstFailed) return 0;
    if (distanceMs !== undefined) return Math.min(most, pacingReach(distanceMs));
    if (firstExchangeMs !== undefined)
      return near() && !distanceTaken ? 1 : Math.min(most, pacingReach(firstExchangeMs));
    const awaited = performance.now() - (firstSentAt ?? performance.now());
    return awaited < nearApiMs ? 1 : Math.min(most, pacingReach(awaited));
  };
  const opening = openUpTo(reach, openOne, {
    intervalMs: minWorkMs,
    settleFirst: () => sent,
    reachGrows: () => !firstFailed && (firstExchangeMs === undefined || (near() && !distanceTaken)),
    issued: () => {
      issued = true;
      shaken();
    },
  });
  // Bounded: a handshake that never ends fails within the connect deadline, and the first /health, whose answer
  // ends a growing reach, within its request's; past the wait's own deadline the sample starts regardless.
  const handshakesDone = () =>
    waitUntil(
      async () =>
        issued && handshaking === 0
          ? { ready: true, value: null }
          : { ready: false, last: `${handshaking} handshakes in progress` },
      {
        what: "smoke 9's connections to open",
        timeoutMs: sampleHttp.timeoutMs + 1000,
        intervalMs: 250,
        wake: (poll) => {
          handshakeWakers.add(poll);
          return () => handshakeWakers.delete(poll);
        },
      },
    ).then(
      () => undefined,
      () => undefined,
    );
  // The sample's searches wait until smoke 2 has timed the database (order.startAfter); the first asks then go out
  // beside them, their places in the cold window taken from the start.
  const firstAsks = new Set(firstAskIds.map(titleOf));
  // Their times without their connections' handshakes: what the server and the distance cost.
  const answeredBeside = (title: string, a?: Answer) => {
    if (!firstAsks.has(title)) return;
    if (a?.http === 200)
      sample.answeredElsewhere(a.exchangeMs, latencyQueries.includes(a.path) ? a.path : undefined, true);
    else sample.wake();
  };
  answerListeners.add(answeredBeside);
  const searchesMayStart = (order.startAfter?.() ?? Promise.resolve()).then(
    () => {
      const known = runbookThree.flatMap((r) => (r.ms === null ? [] : [r.exchangeMs ?? r.ms]));
      // The first asks in flight together are smoke 3, 4, 5 and 8, which go now: the sample's own first asks
      // take their places as they answer. The sample as a whole keeps as many in flight as the answers known allow.
      sample.allowCold(
        unanswered(ctx, firstAskIds),
        firstWindow(distanceMs ?? openedMs, known, most, firstAsksTogether),
      );
    },
    (e: Error) => sample.stop(`smoke 2 did not answer: ${e.message}`),
  );
  const sampling = Promise.all([handshakesDone(), searchesMayStart]).then(() => sample.run());
  await opening;
  if (openedMs === undefined) sample.stop('no connection opened: /health did not answer 200');

  await Promise.all([sampling, running, measuringDistance]).finally(() => answerListeners.delete(answeredBeside));
  const failures = [...runbookThree, ...sample.samples].filter((s) => s.why).map((s) => s.why);
  c.judge({
    runbook_three_ms: runbookThree.map((r) => r.ms),
    // The same requests as the server timed them, from their headers going out: the first without its handshake.
    runbook_three_exchange_ms: runbookThree.map((r) => (r.exchangeMs === undefined ? null : Math.round(r.exchangeMs))),
    samples_ms: sample.samples.map((s) => s.ms),
    failed: failures.length,
    failures: failures.slice(0, 5),
    stopped_early: sample.stoppedEarly,
    queries: latencyQueries.length,
    asked: Object.fromEntries(
      [...sample.asked].map(([path, k]) => [new URL(path, t().apiUrl).searchParams.get('q') ?? path, k]),
    ),
    most_in_flight: sample.mostInFlight,
    connections: Math.max(mostOpen, openNow()),
    distance_ms: distanceMs === undefined ? null : Math.round(distanceMs),
  });
}

export async function tlsCertificate(ctx: TestContext, id: CheckId = 'smoke.10') {
  const c = check(ctx, id);
  const cert = await c.probe(() => peerCertificate(t().apiUrl, { caFile: t().caFile }));
  c.judge({
    days_left: cert.daysLeft,
    not_after: cert.notAfter.toISOString(),
    subject: cert.subject,
    key_type: cert.keyType,
    key_bits: cert.keyBits,
    server_auth: cert.serverAuth,
  });
}
