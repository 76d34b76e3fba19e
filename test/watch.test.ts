// The rollback-trigger watch on the real stack, with shortened windows: a sustained 5xx burst is critical
// and recommends a rollback; a short one is only a warning; --auto-rollback rolls back.
import { afterEach, describe, expect, it } from 'vitest';
import { imageInfo } from '../lib/probes/docker';
import { get } from '../lib/probes/http';
import { readState } from '../lib/operations/rollback-state';
import { watch } from '../scripts/watch';
import { waitUntil } from '../lib/core/wait';
import { status } from '../scripts/status';
import { commitToProject, phase, reportsDir, resetFaults, setFaults, t, withStopped } from './support/harness';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib/core/exec';
import { repoRoot } from '../lib/harness/config';
import { apiTargetsDown, instant } from '../lib/probes/prometheus';
import { userErrorShare } from '../scripts/watch';

/** `npm run watch` as Bolt types it, into a reports folder of its own. */
async function watchCli(env: Record<string, string>) {
  const reports = reportsDir();
  const r = await run(['node', '--import', 'tsx', join(repoRoot, 'scripts', 'watch.ts')], {
    cwd: repoRoot,
    env: { RUNBOOK_REPORTS_DIR: reports, ...env },
    timeoutMs: 120_000,
  });
  let junit = '';
  try {
    junit = readFileSync(join(reports, 'watch.junit.xml'), 'utf8');
  } catch {
    // A watch that could not start writes none.
  }
  return { ...r, junit };
}

const fast = {
  RUNBOOK_WATCH_INTERVAL_S: '2',
  RUNBOOK_PROMQL_5XX_PCT:
    '100 * sum(rate(http_requests_total{status=~"5.."}[10s])) / sum(rate(http_requests_total[10s]))',
  RUNBOOK_PROMQL_SEARCH_P99:
    'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{route="/v1/search"}[10s])))',
};

/** Search traffic while fn runs, so the API's counters move. */
async function withTraffic<T>(fn: () => Promise<T>): Promise<T> {
  let on = true;
  const loop = (async () => {
    while (on)
      await get(`${t.apiUrl}/v1/search?q=laptop&limit=1&currency=USD`, { caFile: t.caFile }).catch(() => undefined);
  })();
  try {
    return await fn();
  } finally {
    on = false;
    await loop;
  }
}

afterEach(resetFaults);

describe('npm run watch', () => {
  it('5xx on for longer than the window: critical, "ROLLBACK RECOMMENDED: 5xx error rate"', async () => {
    await setFaults({ search5xx: true });
    const out: string[] = [];
    const r = await withTraffic(() =>
      watch([], { ...process.env, ...fast, RUNBOOK_WATCH_WINDOW_S: '10', RUNBOOK_WATCH_DURATION_S: '90' }, (s) =>
        out.push(s),
      ),
    );
    expect(r.recommended, out.join('')).toMatch(/^5xx error rate/);
    expect(out.join('')).toMatch(/ROLLBACK RECOMMENDED: 5xx error rate/);
    expect(r.states.find((s) => s.name === 'Disk')?.worst).toBe('ok');
  }, 180_000);

  it('5xx on for less than the window: a warning only, and the watch stops by itself', async () => {
    const out: string[] = [];
    let wake: (() => void) | undefined;
    const printed = (what: string, re: RegExp) =>
      waitUntil(
        async () =>
          out.some((l) => re.test(l))
            ? { ready: true, value: true }
            : { ready: false, last: out.at(-1) ?? 'nothing printed' },
        {
          what: `watch prints ${what}`,
          timeoutMs: 30_000,
          intervalMs: 1000,
          wake: (poll) => ((wake = poll), () => (wake = undefined)),
        },
      );
    const r = await withTraffic(async () => {
      const w = watch(
        [],
        { ...process.env, ...fast, RUNBOOK_WATCH_WINDOW_S: '45', RUNBOOK_WATCH_DURATION_S: '40' },
        (s) => (out.push(s), wake?.()),
      );
      await printed('a healthy sample', /^\d\d:\d\d:\d\d {2}5xx error rate: (?!WARNING|CRITICAL|UNKNOWN)/);
      await setFaults({ search5xx: true });
      await printed('a 5xx warning', /5xx error rate: WARNING/);
      await resetFaults();
      return w;
    });
    expect(r.recommended).toBeUndefined();
    expect(r.states.find((s) => s.name === '5xx error rate')?.worst).toBe('warning');
  }, 180_000);

  it('--auto-rollback performs the rollback', async () => {
    const d0 = await phase('deploy');
    expect(d0.exitCode, d0.output).toBe(0);
    await commitToProject({ 'api/build.env': `# build ${Date.now()}\n` }, 'Another build');
    const d = await phase('deploy');
    expect(d.exitCode, d.output).toBe(0);
    const previous = readState(t.projectDir)!.PREV_API_IMAGE;
    await setFaults({ search5xx: true });
    const r = await withTraffic(() =>
      watch(
        ['--auto-rollback'],
        { ...process.env, ...fast, RUNBOOK_WATCH_WINDOW_S: '8', RUNBOOK_WATCH_DURATION_S: '90' },
        () => {},
      ),
    );
    expect(r.recommended).toMatch(/5xx/);
    expect(r.rollback?.exitCode).toBe(0);
    expect((await imageInfo(`${t.apiImage}:latest`))!.id).toBe(previous);
    const back = await phase('deploy');
    expect(back.exitCode, back.output).toBe(0);
  }, 600_000);
});

describe('a watch that could not see is never an all clear', () => {
  it('Prometheus stopped: an <error> for each trigger it feeds, "WATCH BLIND", exit 1; no query text printed', async () => {
    const r = await withStopped('metrics-collector', () =>
      watchCli({ RUNBOOK_WATCH_INTERVAL_S: '2', RUNBOOK_WATCH_WINDOW_S: '6', RUNBOOK_WATCH_DURATION_S: '10' }),
    );
    expect(r.exitCode, r.output).toBe(1);
    expect(r.output).toMatch(/WATCH BLIND: 5xx error rate \(/);
    expect(r.output).toMatch(/WATCH BLIND: P99 search latency \(/);
    expect(r.output).not.toMatch(/query=|%7B|http_requests_total/);
    const errors = [...r.junit.matchAll(/<testcase [^>]*name="([^"]+)"[^>]*>\s*<error message="([^"]*)"/g)];
    expect(errors.map((e) => e[1]!.split(':')[0])).toEqual(['5xx error rate', 'P99 search latency']);
    expect(errors[0]![2]).toMatch(/WATCH BLIND: 5xx error rate \(.+\)/);
    expect(r.junit).toMatch(/<property name="blind" value="5xx error rate, P99 search latency"\/>/);
  }, 180_000);

  it('without RUNBOOK_PROMETHEUS_URL the watch does not start: exit 2, naming the setting', async () => {
    const r = await watchCli({ RUNBOOK_TARGET: 'production', RUNBOOK_WATCH_DURATION_S: '5' });
    expect(r.exitCode, r.output).toBe(2);
    expect(r.output).toMatch(/watch could not run: .*settings need fixing/);
    expect(r.output).toMatch(
      /- RUNBOOK_PROMETHEUS_URL\n\s+expected: the Prometheus base URL that scrapes the API\n\s+found: +nothing/,
    );
  });

  it('the default 5xx share counts user routes only: unknown with no user traffic, 0 % with traffic and no 5xx', async () => {
    const rateS = 10;
    const query = userErrorShare(rateS);
    // Probes and health checks keep hitting /health and /metrics; nothing else asks the API here. Every replica
    // must have been scraped since it last started, or the watch is blind for that reason instead.
    await waitUntil(
      async () => {
        const down = await apiTargetsDown(t.prometheusUrl!);
        if (down.length) return { ready: false, last: down.map((d) => `${d.instance}: ${d.error}`).join('; ') };
        const v = await instant(t.prometheusUrl!, query);
        return v === undefined || Number.isNaN(v) ? { ready: true, value: v } : { ready: false, last: String(v) };
      },
      {
        what: 'every replica scraped, and the user traffic of earlier tests out of the query range',
        timeoutMs: 60_000,
        intervalMs: 2000,
      },
    );
    const short = {
      ...process.env,
      RUNBOOK_WATCH_RATE_S: String(rateS),
      RUNBOOK_WATCH_INTERVAL_S: '2',
      RUNBOOK_WATCH_WINDOW_S: '30',
      RUNBOOK_WATCH_DURATION_S: '5',
    };
    const quiet = await watch([], short, () => {});
    const share = quiet.states.find((s) => s.name === '5xx error rate')!;
    expect(share).toMatchObject({ level: 'unknown', detail: 'no user request in the query range' });
    expect(quiet.blind).toContain('5xx error rate');

    const busy = await withTraffic(async () => {
      await waitUntil(
        async () => {
          const v = await instant(t.prometheusUrl!, query);
          return v !== undefined && Number.isFinite(v) ? { ready: true, value: v } : { ready: false, last: String(v) };
        },
        { what: 'user traffic to reach Prometheus', timeoutMs: 60_000, intervalMs: 1000 },
      );
      return watch([], short, () => {});
    });
    expect(busy.states.find((s) => s.name === '5xx error rate')).toMatchObject({ level: 'ok', detail: '0%' });
    expect(busy.blind).not.toContain('5xx error rate');
  }, 180_000);
});

describe('npm run status', () => {
  it('reports containers, DB connections, pools, Redis memory and disk, without secrets', async () => {
    const s = await status();
    for (const h of ['Services (compose project', 'DB connections by state', 'PgBouncer pools', 'Redis memory', 'Disk'])
      expect(s).toContain(h);
    expect(s).toMatch(/api +1\/1 running\n +api +running \(healthy\) +on \S+ +\S+ +cpu [\d.]+%\s+mem/);
    expect(s).toMatch(/catalog\/buywhere: \d+ of 20 active/);
    expect(s).toMatch(/used [\d.]+ MiB of 256.0 MiB/);
    for (const v of t.secretValues) expect(s).not.toContain(v);
  });
});
