import { CouldNotCheck } from '../core/errors.js';
import { get, json } from './http.js';

/** The value of an instant PromQL query that returns one sample, or undefined for an empty result. */
export async function instant(baseUrl: string, promql: string): Promise<number | undefined> {
  const res = await get(`${baseUrl}/api/v1/query?query=${encodeURIComponent(promql)}`, { timeoutMs: 5000 });
  const body = json(res);
  if (res.status !== 200 || !body.ok)
    throw new CouldNotCheck(`Prometheus query failed: HTTP ${res.status} ${body.ok ? '' : body.problem}`);
  const data = body.value.data as { resultType?: string; result?: Array<{ value?: [number, string] }> } | undefined;
  const first = data?.result?.[0]?.value?.[1];
  return first === undefined ? undefined : Number(first);
}

/** A target Prometheus scrapes now whose last scrape failed, and why. */
export interface DownTarget {
  instance: string;
  error: string;
}

/** One target Prometheus scrapes now, as its targets API lists it. */
export interface ActiveTarget {
  job: string;
  instance: string;
  /** `up`, `down`, or `unknown` until its first scrape. */
  health: string;
  lastError: string;
}

/** The targets Prometheus scrapes now, from `/api/v1/targets?state=active`. */
export async function activeTargets(baseUrl: string): Promise<ActiveTarget[]> {
  const t = await get(`${baseUrl}/api/v1/targets?state=active`, { timeoutMs: 5000, maxBodyBytes: 8 * 1024 * 1024 });
  const tb = json(t);
  const active = tb.ok ? (tb.value.data as { activeTargets?: unknown } | undefined)?.activeTargets : undefined;
  if (t.status !== 200 || !Array.isArray(active))
    throw new CouldNotCheck(`Prometheus answered HTTP ${t.status} for its targets`);
  return (active as Array<{ labels?: Record<string, string>; health?: string; lastError?: string }>).map((x) => ({
    job: x.labels?.job ?? '?',
    instance: x.labels?.instance ?? '?',
    health: x.health ?? 'unknown',
    lastError: x.lastError ?? '',
  }));
}

/**
 * The targets Prometheus scrapes now, of every job that exports the API's request counters, that it did not reach
 * at their last scrape (or has not scraped yet). From its list of active targets, not from `up`: a target removed
 * across a restart of Prometheus keeps its last `up` sample for minutes, and would look down.
 */
export async function apiTargetsDown(baseUrl: string): Promise<DownTarget[]> {
  const q = await get(`${baseUrl}/api/v1/query?query=${encodeURIComponent('count by (job) (http_requests_total)')}`, {
    timeoutMs: 5000,
  });
  const qb = json(q);
  const series = qb.ok ? (qb.value.data as { result?: unknown } | undefined)?.result : undefined;
  if (q.status !== 200 || !Array.isArray(series))
    throw new CouldNotCheck(`Prometheus query failed: HTTP ${q.status} ${qb.ok ? '' : qb.problem}`);
  const jobs = series.map((s: { metric?: { job?: string } }) => s.metric?.job).filter((j): j is string => !!j);
  return targetsUnseen(jobs, await activeTargets(baseUrl));
}

/**
 * Of these jobs, each target not `up`, and each job with no active target at all: a Prometheus that has just
 * started lists none until its first sync with discovery, and one whose config lost the job scrapes none. Either way
 * the job's samples are only the old ones, and the queries over it would read as quiet.
 */
export function targetsUnseen(jobs: readonly string[], active: readonly ActiveTarget[]): DownTarget[] {
  const unseen: DownTarget[] = [];
  for (const job of new Set(jobs)) {
    const mine = active.filter((x) => x.job === job);
    if (mine.length === 0) unseen.push({ instance: `job ${job}`, error: 'no target scraped now' });
    for (const x of mine.filter((m) => m.health !== 'up'))
      unseen.push({
        instance: x.instance,
        error: x.health === 'down' ? (x.lastError || 'down').slice(0, 120) : 'not scraped yet',
      });
  }
  return unseen;
}

export interface ErrorRate {
  errors: number;
  total: number;
  pct: number;
}

/** 5xx share of API requests over a window, from the API's own counters as Prometheus scraped them. */
export async function errorRate(baseUrl: string, window = '5m'): Promise<ErrorRate> {
  const total = await instant(baseUrl, `sum(increase(http_requests_total[${window}]))`);
  if (total === undefined)
    throw new CouldNotCheck(`Prometheus at ${baseUrl} has no http_requests_total series: is the API scraped?`);
  const errors = (await instant(baseUrl, `sum(increase(http_requests_total{status=~"5.."}[${window}]))`)) ?? 0;
  return { errors, total, pct: total > 0 ? (errors / total) * 100 : 0 };
}

export interface Alert {
  name: string;
  severity: string;
  priority: string;
  /** Alertmanager's `active`, `suppressed` (silenced or inhibited) or `unprocessed`; Prometheus's `firing`. */
  state: string;
  startsAt: Date;
}

/** Every alert Alertmanager holds, in whatever state: a silenced one is known to it, and not active. */
export async function alertmanagerAlerts(alertmanagerUrl: string): Promise<Alert[]> {
  const res = await get(`${alertmanagerUrl}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`, {
    timeoutMs: 5000,
  });
  let list: unknown;
  try {
    list = JSON.parse(res.text);
  } catch {
    throw new CouldNotCheck(`Alertmanager answered HTTP ${res.status} with a body that is not JSON`);
  }
  if (res.status !== 200 || !Array.isArray(list)) throw new CouldNotCheck(`Alertmanager answered HTTP ${res.status}`);
  return list.map((a: { labels?: Record<string, string>; status?: { state?: string }; startsAt?: string }) => ({
    name: a.labels?.alertname ?? '?',
    severity: a.labels?.severity ?? '',
    priority: a.labels?.priority ?? '',
    state: a.status?.state ?? '',
    startsAt: new Date(a.startsAt ?? 0),
  }));
}

/** An alerting rule's alert as Prometheus evaluates it: pending until its `for` has passed, then firing. */
export interface RuleAlert {
  name: string;
  severity: string;
  priority: string;
  state: string;
  /** When its condition began to hold. */
  activeAt: Date;
}

/** The alerts Prometheus's rules raise now, pending or firing (`/api/v1/alerts`). */
export async function ruleAlerts(prometheusUrl: string): Promise<RuleAlert[]> {
  const res = await get(`${prometheusUrl}/api/v1/alerts`, { timeoutMs: 5000 });
  const body = json(res);
  const alerts = body.ok ? ((body.value.data as { alerts?: unknown } | undefined)?.alerts ?? []) : [];
  if (res.status !== 200 || !Array.isArray(alerts))
    throw new CouldNotCheck(`Prometheus answered HTTP ${res.status} for its alerts`);
  return (alerts as Array<{ labels?: Record<string, string>; state?: string; activeAt?: string }>).map((a) => ({
    name: a.labels?.alertname ?? '?',
    severity: a.labels?.severity ?? '',
    priority: a.labels?.priority ?? '',
    state: a.state ?? '',
    activeAt: new Date(a.activeAt ?? NaN),
  }));
}

export const isP1 = (a: Pick<Alert, 'severity' | 'priority'>) => a.severity === 'critical' || a.priority === 'P1';

/** Sums http_requests_total from a Prometheus text exposition, split into 5xx and all. */
export function parseRequestCounts(text: string): ErrorRate {
  let errors = 0;
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^http_requests_total\{([^}]*)\}\s+([0-9.eE+-]+)/.exec(line);
    if (!m) continue;
    const n = Number(m[2]);
    total += n;
    if (/status="5\d\d"/.test(m[1]!)) errors += n;
  }
  return { errors, total, pct: total > 0 ? (errors / total) * 100 : 0 };
}

/**
 * 5xx share since the API process started, from its own /metrics. After a rollback the API has just been
 * restarted, so this covers exactly the rolled-back build, which a 5-minute Prometheus window would not.
 */
export async function errorRateSinceStart(apiUrl: string, caFile?: string): Promise<ErrorRate> {
  const res = await get(`${apiUrl}/metrics`, { caFile, timeoutMs: 5000, maxBodyBytes: 4 * 1024 * 1024 });
  if (res.status !== 200) throw new CouldNotCheck(`GET ${apiUrl}/metrics answered HTTP ${res.status}`);
  const r = parseRequestCounts(res.text);
  if (r.total === 0) throw new CouldNotCheck(`${apiUrl}/metrics has no http_requests_total samples`);
  return r;
}

/**
 * The 5xx share since each replica started, summed over every replica: behind a balancer one /metrics answer is
 * one replica's, and another build's errors on the next replica would go unseen. A replica that does not answer,
 * or has no counts, is a check that could not run, naming it.
 */
export async function errorRateOfReplicas(origins: readonly string[]): Promise<ErrorRate> {
  const each = await Promise.all(origins.map((o) => errorRateSinceStart(o)));
  const errors = each.reduce((n, r) => n + r.errors, 0);
  const total = each.reduce((n, r) => n + r.total, 0);
  return { errors, total, pct: total > 0 ? (errors / total) * 100 : 0 };
}

/** When each firing or pending alert's condition began to hold (Prometheus's activeAt), by alert name. */
export function conditionsSince(alerts: readonly RuleAlert[]): Map<string, Date> {
  const out = new Map<string, Date>();
  for (const a of alerts)
    if (Number.isFinite(a.activeAt.getTime()) && !(out.get(a.name)! <= a.activeAt)) out.set(a.name, a.activeAt);
  return out;
}

/**
 * The P1 alerts firing now: those Alertmanager holds as active, and those Prometheus fires that Alertmanager does
 * not hold at all. An Alertmanager that has just restarted holds nothing until Prometheus sends again (a minute
 * later by default), and one that Prometheus does not reach never holds anything: its empty list is no all clear.
 * An alert Alertmanager holds silenced or inhibited (`suppressed`) was put there on purpose, and stays out; one it
 * has not processed yet counts.
 */
export function p1Firing(
  held: readonly Alert[],
  fired: readonly RuleAlert[] = [],
): { alerts: Alert[]; notHeld: string[] } {
  const known = new Set(held.map((a) => a.name));
  const missing = fired.filter((a) => a.state === 'firing' && isP1(a) && !known.has(a.name));
  const notHeld = [...new Set(missing.map((a) => a.name))];
  const alerts = [
    ...held.filter((a) => a.state !== 'suppressed' && isP1(a)),
    ...notHeld.map((name) => {
      const a = missing.find((m) => m.name === name)!;
      return { name, severity: a.severity, priority: a.priority, state: 'firing', startsAt: a.activeAt };
    }),
  ];
  return { alerts, notHeld };
}

/**
 * Alerts raised by what runs since `since`: an alert counts as new when its condition began after it. An alert
 * whose condition already held before (the bad build's errors still inside a rate window) is still resolving,
 * even when its `for` delay makes it start firing later. Without Prometheus, Alertmanager's startsAt decides.
 */
export function newSince(
  alerts: Alert[],
  since: Date,
  conditionSince: Map<string, Date> = new Map(),
): { fresh: Alert[]; resolving: Alert[] } {
  const began = (a: Alert) => conditionSince.get(a.name) ?? a.startsAt;
  return { fresh: alerts.filter((a) => began(a) >= since), resolving: alerts.filter((a) => began(a) < since) };
}
