// npm run watch: the post-launch rollback triggers (runbook section 4), sampled live. Prints a line per
// sample, warnings, and "ROLLBACK RECOMMENDED: <trigger>" on a sustained critical breach; with
// --auto-rollback (or RUNBOOK_AUTO_ROLLBACK=1) it then runs the rollback. Stops by itself after its duration
// and writes reports/watch.junit.xml with one testcase per trigger.
import { join } from 'node:path';
import { commandLine } from '../lib/harness/cli.js';
import { requireSettings, resolveTarget, watchSettings, type Target } from '../lib/harness/config.js';
import { dataServices } from '../lib/harness/data-services.js';
import { diskUsage } from '../lib/probes/disk.js';
import { writeAtomic } from '../lib/core/atomic.js';
import { get } from '../lib/probes/http.js';
import { busiest, showPools } from '../lib/probes/pgbouncer.js';
import { apiTargetsDown, instant } from '../lib/probes/prometheus.js';
import { memory } from '../lib/probes/redis.js';
import { junitXml } from '../lib/harness/junit.js';
import { evidenceDir } from '../lib/harness/evidence.js';
import { scrub } from '../lib/core/secret.js';
import { ConfigError } from '../lib/core/errors.js';
import { TriggerTracker, triggers, type Sample } from '../lib/operations/triggers.js';
import { runPhase } from './phases.js';

export interface WatchOptions {
  /** Stop after this long, in s. Env RUNBOOK_WATCH_DURATION_S. @default 3600 */
  durationS: number;
  /** Time between samples, in s. Env RUNBOOK_WATCH_INTERVAL_S. @default 15 */
  intervalS: number;
  /** "Sustained for 5 min" window, in s. Env RUNBOOK_WATCH_WINDOW_S. @default 300 */
  windowS: number;
  /** Run the rollback on a sustained critical trigger. Flag --auto-rollback or env RUNBOOK_AUTO_ROLLBACK=1. @default false */
  autoRollback: boolean;
  /** The range the default queries take their rates over, in s. Env RUNBOOK_WATCH_RATE_S. @default 60 */
  rateS: number;
  /** PromQL for the 5xx share in %. Env RUNBOOK_PROMQL_5XX_PCT. @default userErrorShare(rateS) */
  promql5xx: string;
  /** PromQL for the search p99 in s. Env RUNBOOK_PROMQL_SEARCH_P99. @default searchP99(rateS) */
  promqlP99: string;
}

/** Routes that probes and health checks hit all the time: not user traffic. */
const notUserRoutes = 'route!~"/health.*|/metrics"';

/**
 * The 5xx share of user requests, in %: no 5xx under user traffic is 0 (a 5xx series that never existed is no
 * errors), and no user request in the range is 0 / 0, which Prometheus gives as NaN: unknown, never clear.
 */
export const userErrorShare = (rangeS: number) =>
  `100 * (sum(rate(http_requests_total{status=~"5..",${notUserRoutes}}[${rangeS}s])) or vector(0)) / sum(rate(http_requests_total{${notUserRoutes}}[${rangeS}s]))`;

export const searchP99 = (rangeS: number) =>
  `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{route="/v1/search"}[${rangeS}s])))`;

function options(argv: string[], env: NodeJS.ProcessEnv): WatchOptions {
  const w = watchSettings(env);
  return {
    durationS: w.durationS,
    intervalS: w.intervalS,
    windowS: w.windowS,
    autoRollback: argv.includes('--auto-rollback') || w.autoRollback,
    rateS: w.rateS,
    promql5xx: w.promql5xx ?? userErrorShare(w.rateS),
    promqlP99: w.promqlP99 ?? searchP99(w.rateS),
  };
}

async function promSample(prometheusUrl: string, promql: string, empty: string): Promise<Sample> {
  const v = await instant(prometheusUrl, promql);
  if (v === undefined || !Number.isFinite(v)) return { unknown: empty };
  return { value: v };
}

async function sampleAll(t: Target & { prometheusUrl: string }, o: WatchOptions): Promise<Sample[]> {
  // A probe's own words, first line only, and never a URL: the query would print URL-encoded.
  const guard = (p: Promise<Sample>) =>
    p.catch((e: Error) => ({ unknown: e.message.split('\n')[0]!.replace(/https?:\/\/\S+/g, '<url>') }) as Sample);
  // Both Prometheus triggers are unknown while it cannot scrape every API target: a sum over the replicas it reaches
  // leaves the others' requests out, and behind a balancer the one it cannot see may be the one answering 5xx.
  const unseen = apiTargetsDown(t.prometheusUrl).then((down) =>
    down.length
      ? `Prometheus cannot scrape ${down.map((d) => `${d.instance} (${d.error})`).join(', ')}: ${down.length === 1 ? 'its requests are' : 'their requests are'} missing from the query`
      : undefined,
  );
  const seen = (promql: string, empty: string) =>
    unseen.then((why) => (why ? ({ unknown: why } as Sample) : promSample(t.prometheusUrl, promql, empty)));
  return Promise.all([
    guard(seen(o.promql5xx, 'no user request in the query range')),
    guard(seen(o.promqlP99, 'no search request in the query range')),
    guard(
      get(`${t.apiUrl}/health`, { caFile: t.caFile, timeoutMs: 5000 })
        .then((r) => ({ ok: r.status === 200 }))
        .catch(() => ({ ok: false })),
    ),
    guard(
      showPools(dataServices(t).pgbouncer).then((p) => {
        const b = busiest(p);
        return { value: b.waiting > 0 ? Math.max(100, b.usagePct) : b.usagePct };
      }),
    ),
    guard(
      memory(dataServices(t).redis).then((m) =>
        m.usagePct === undefined
          ? { notApplicable: 'Redis has no maxmemory: no percentage to compute' }
          : { value: m.usagePct },
      ),
    ),
    guard(diskUsage(t.diskPath).then((d) => ({ value: d.usedPct }))),
  ]);
}

export async function watch(
  argv: string[],
  env: NodeJS.ProcessEnv,
  write: (s: string) => void = (s) => void process.stdout.write(s),
) {
  const r = resolveTarget(env);
  // Without Prometheus two of the six triggers can never be seen: the watch does not start half blind. Named with
  // every other missing setting, at once.
  if (!r.target.prometheusUrl)
    r.malformed.push(
      new ConfigError(
        'RUNBOOK_PROMETHEUS_URL',
        'the Prometheus base URL that scrapes the API',
        'nothing',
        'Set it to the Prometheus that scrapes the API: the 5xx share and the search p99 come from it',
      ),
    );
  requireSettings(r, 'all');
  const resolved = r.target;
  const prometheusUrl = resolved.prometheusUrl!;
  const t = Object.assign(resolved, { prometheusUrl });
  const o = options(argv, env);
  const trackers = triggers.map((d) => new TriggerTracker(d, o.windowS * 1000));
  const started = Date.now();
  write(
    `watch — target ${t.name}; every ${o.intervalS} s for ${o.durationS} s; sustained window ${o.windowS} s${o.autoRollback ? '; AUTO-ROLLBACK on' : ''}\n`,
  );
  let recommended: string | undefined;
  let rollback: { exitCode: number | undefined } | undefined;
  const said = new Set<string>();
  const once = (key: string, line: string) => {
    if (!said.has(key)) write(line);
    said.add(key);
  };
  while (Date.now() - started < o.durationS * 1000) {
    const tick = Date.now();
    const samples = await sampleAll(t, o);
    const now = Date.now();
    const states = trackers.map((tr, i) => tr.update(now, samples[i]!));
    const clock = new Date().toISOString().slice(11, 19);
    write(
      `${clock}  ${trackers.map((tr, i) => `${tr.def.name}: ${states[i]!.level === 'ok' ? '' : `${states[i]!.level.toUpperCase()} `}${states[i]!.detail}`).join(' | ')}\n`,
    );
    trackers.forEach((tr, i) => {
      const s = samples[i]!;
      if ('notApplicable' in s)
        once(`na:${tr.def.name}`, `WARNING: ${tr.def.name} not applicable (${s.notApplicable})\n`);
      if (tr.blindNow(now)) once(`blind:${tr.def.name}`, `WATCH BLIND: ${tr.def.name} (${tr.state.detail})\n`);
    });
    const critical = trackers.find((tr) => tr.state.level === 'critical');
    if (critical) {
      recommended = `${critical.def.name} (${critical.state.detail})`;
      write(`ROLLBACK RECOMMENDED: ${recommended}\n`);
      if (o.autoRollback) {
        write('auto-rollback: running npm run rollback\n');
        const r = await runPhase('rollback', {
          echo: true,
          env: { ...env, RUNBOOK_ROLLBACK_REASON: `watch: ${recommended}` },
        });
        rollback = { exitCode: r.exitCode };
        write(`auto-rollback: ${r.exitCode === 0 ? 'complete' : `FAILED (exit ${r.exitCode})`}\n`);
      }
      break;
    }
    const wait = o.intervalS * 1000 - (Date.now() - tick);
    if (wait > 0)
      await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(0, o.durationS * 1000 - (Date.now() - started)))));
  }

  const ended = Date.now();
  const sights = trackers.map((tr) => tr.finish(ended));
  const blind = trackers.map((tr, i) => [tr.def.name, sights[i]!.blind] as const).filter(([, why]) => why);
  for (const [name, why] of blind) once(`blind:${name}`, `WATCH BLIND: ${name} (${why})\n`);
  const xml = junitXml({
    name: 'Rollback triggers',
    timestamp: new Date(started).toISOString(),
    timeS: (Date.now() - started) / 1000,
    properties: [
      ['target', t.name],
      ['window_s', String(o.windowS)],
      ['recommendation', recommended ? `ROLLBACK RECOMMENDED: ${recommended}` : 'none'],
      ['blind', blind.length ? blind.map(([n]) => n).join(', ') : 'none'],
      ...(rollback ? [['auto_rollback_exit', String(rollback.exitCode)] as [string, string]] : []),
    ],
    cases: trackers.map((tr, i) => {
      const sight = sights[i]!;
      const text = `${tr.def.name}: critical — ${tr.state.detail}. Rex calls the rollback (runbook 5.1).`;
      const blind = `WATCH BLIND: ${tr.def.name} (${sight.blind}). Not seen is not clear: find out why, and watch again.`;
      return {
        className: 'watch',
        name: `${tr.def.name}: ${tr.def.text}`,
        timeS: (Date.now() - started) / 1000,
        stdout: [
          `worst: ${tr.state.worst}`,
          `last: ${tr.state.level} ${tr.state.detail}`,
          ...(sight.notApplicable ? [`warning: not applicable (${sight.notApplicable})`] : []),
          ...sight.gaps.map((g) => `warning: ${g}`),
        ].join('\n'),
        outcome:
          tr.state.worst === 'critical'
            ? { kind: 'failure', message: text, type: 'failure', body: text }
            : sight.blind
              ? { kind: 'error', message: blind, type: 'blind', body: blind }
              : undefined,
      };
    }),
  });
  writeAtomic(join(t.reportsDir, 'watch.junit.xml'), scrub(xml, t.secretValues));
  writeAtomic(
    join(evidenceDir(t.reportsDir), 'watch.json'),
    scrub(
      JSON.stringify(
        {
          target: t.name,
          startedAt: new Date(started).toISOString(),
          finishedAt: new Date().toISOString(),
          recommended,
          rollback,
          blind: blind.map(([n]) => n),
          triggers: trackers.map((tr, i) => ({ name: tr.def.name, ...tr.state, ...sights[i] })),
        },
        null,
        2,
      ),
      t.secretValues,
    ),
  );
  return {
    recommended,
    rollback,
    blind: blind.map(([n]) => n),
    states: trackers.map((tr, i) => ({ name: tr.def.name, ...tr.state, ...sights[i]! })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  commandLine({
    usage: 'npm run watch --',
    summary:
      "Samples the runbook's rollback triggers (section 4) and recommends a rollback on a sustained critical breach.",
    flags: { 'auto-rollback': 'run `npm run rollback` on a sustained critical trigger (or RUNBOOK_AUTO_ROLLBACK=1)' },
    env: {
      RUNBOOK_WATCH_DURATION_S: 'how long to watch, in s',
      RUNBOOK_WATCH_INTERVAL_S: 'seconds between samples',
      RUNBOOK_WATCH_WINDOW_S: 'how long a breach must hold, in s (and how long unknown makes a trigger blind)',
      RUNBOOK_WATCH_RATE_S: "the range of the default queries' rates, in s",
    },
  });
  watch(process.argv.slice(2), process.env).then(
    // 0 only when every trigger was seen and clear: a recommendation or a blind trigger is 1.
    (r) => process.exit(r.recommended || r.blind.length ? 1 : 0),
    (err: Error) => {
      process.stderr.write(`watch could not run: ${err.message}\n`);
      process.exit(2);
    },
  );
}
