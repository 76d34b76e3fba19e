// npm run bench: the harness against the runbook as written, side by side in one run on the staging stack.
// Prints figures and ratios and writes reports/bench.json; nothing here passes or fails. Absolute times
// depend on the machine, so compare the ratios.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { resolveTarget, repoRoot } from '../lib/harness/config.js';
import { composeArgs, compose } from '../lib/probes/compose.js';
import { listImages, onHealthEvents, serviceStates } from '../lib/probes/docker.js';
import { writeAtomic } from '../lib/core/atomic.js';
import { scrub } from '../lib/core/secret.js';
import { run } from '../lib/core/exec.js';
import { get, json } from '../lib/probes/http.js';
import { withRedis } from '../lib/probes/redis.js';
import { engine } from '../lib/probes/engine.js';
import { waitHealthy } from '../lib/probes/health.js';
import { instant } from '../lib/probes/prometheus.js';
import { readState } from '../lib/operations/rollback-state.js';
import { composeFor, waitHttp200 } from '../lib/operations/stack.js';
import { median, percentile } from '../lib/core/stats.js';
import { runPhase } from '../scripts/phases.js';
import { launch, launchDecision } from '../scripts/launch.js';
import { readEvidence, type Phase } from '../lib/harness/evidence.js';
import { stagingUp } from '../staging/project.js';
import { copyEvidence } from '../test/support/evidence-copy.js';
import { latencyQueries } from '../smoke/checks.js';
import { commandLine } from '../lib/harness/cli.js';
import { scanBackups } from '../lib/probes/backup.js';
import { readArchive } from '../lib/probes/backup-verify.js';
import { runOneOff } from '../lib/probes/oneoff.js';
import { orchestratorFor } from '../lib/operations/orchestrators.js';
import { backupsFolder, nearEmptyBackup, newestStagingBackup, uncompressedBackup } from '../test/support/backups.js';

// Read before anything touches the stack: a mistyped section would otherwise bring staging up, prune its
// builds and run nothing.
const { named: only } = commandLine({
  usage: 'npm run bench --',
  summary:
    'The harness against the runbook as written, side by side on the local staging stack; prints figures and\nratios and writes reports/bench.json. Runs every section when none is named.',
  commands: {
    smoke: "npm run smoke vs the runbook's section 3, at each delay of BENCH_DELAYS",
    gonogo: "npm run gonogo on existing evidence vs Vitest's floor",
    startup: "each phase's fixed cost vs Vitest's floor",
    launch: 'npm run launch -- --no-deploy vs the three commands it replaces',
    lag: "readiness detection lag vs the runbook's 2 s loops",
    deploy: 'a whole staging deploy of a new commit, its images cached',
    rollback: "rollback, start to API healthy on the previous image, vs the runbook's commands",
    staging: "staging's own figures: up to all healthy, and a seed of 1,000,001 products",
    backup: "1.5's backup verification in MB/s, vs pg_restore -f /dev/null alone",
  },
  several: true,
  env: { BENCH_RUNS: 'runs a figure (5)', BENCH_DELAYS: "ms added to the API's responses in smoke (0,100,300)" },
});

const t = resolveTarget().target;
// Bench deploys, rolls back, injects faults and touches the API's cache: on the local staging stack only.
if (t.name !== 'staging' || !t.adminUrl) {
  process.stderr.write(`bench runs against the local staging stack only; the target is ${t.name}\n`);
  process.exit(2);
}
// Five runs a figure, its median reported (BENCH_RUNS): on this kind of host the load moves one run by half a second.
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const results: Record<string, unknown> = {};
const log = (s: string) => process.stdout.write(`${s}\n`);
// Every folder the bench writes reports to, removed when it ends: each phase start reads the record of every
// reports folder still on disk (lib/harness/last-run.ts), so folders left behind would slow later runs.
const scratchRoot = mkdtempSync(join(tmpdir(), 'bench-'));
const scratch = () => mkdtempSync(join(scratchRoot, 'r-'));

interface Figure {
  median: number;
  min: number;
  max: number;
  runs: number[];
}
const figure = (xs: number[]): Figure => ({
  median: median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
  runs: xs.map((x) => Math.round(x)),
});
const ms = (f: Figure) => `${Math.round(f.median)} ms (min ${Math.round(f.min)}, max ${Math.round(f.max)})`;
/** The two arms of one comparison, and the ratio of their medians, the first's to the second's. */
function versus(first: number[], second: number[]) {
  const a = figure(first);
  const b = figure(second);
  return { a, b, ratio: a.median / b.median, times: `${(a.median / b.median).toFixed(2)}×` };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** How long the staging API keeps a cached search or count (staging/api/src/server.ts). */
const apiCacheSeconds = 60;

/**
 * Each run starts on the same cache: every search smoke 9 and the runbook ask is in it, and none expires while the
 * run lasts. The entries already there get their full lifetime again (asking one that is cached leaves its
 * expiry as it was: one set 55 s earlier would expire mid-run), then each search is asked once. Without it,
 * entries set together a minute earlier expire together in whichever run comes then, and that run alone pays a
 * wave of cold queries.
 */
async function warmSearches() {
  const url = t.redisUrl;
  if (!url) return log('  (no RUNBOOK_REDIS_URL: the search cache is not refreshed; entries may expire mid-run)');
  try {
    await withRedis(url, 'refresh the search cache', async (redis) => {
      const keys = [...(await redis.keys('search:*')), ...(await redis.keys('catalog:*'))];
      if (keys.length) await keys.reduce((m, k) => m.expire(k, apiCacheSeconds), redis.multi()).exec();
    });
  } catch (err) {
    log(`  (${scrub((err as Error).message, t.secretValues)}; entries may expire mid-run)`);
  }
  await Promise.all(latencyQueries.map((q) => get(`${t.apiUrl}${q}`, { caFile: t.caFile }).catch(() => undefined)));
}

async function setDelay(responseDelayMs: number) {
  await fetch(`${t.adminUrl}/admin/faults`, { method: 'PUT', body: JSON.stringify({ responseDelayMs }) });
}

/**
 * Bare Vitest, no config of ours, in a folder of empty tests: `vitest.config.mjs` runs one, `projects.config.mjs`
 * runs three projects of one each, one after another as a launch's phases are (a group each).
 */
function bareVitest(): { run: (config: 'vitest' | 'projects') => Promise<void> } {
  const dir = join(repoRoot, 'reports', '.bench-floor');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vitest.config.mjs'), "export default { test: { include: ['empty.test.mjs'] } };\n");
  for (const n of ['', '2', '3'])
    writeFileSync(join(dir, `empty${n}.test.mjs`), "import { test } from 'vitest';\ntest('empty', () => {});\n");
  writeFileSync(
    join(dir, 'projects.config.mjs'),
    `export default { test: { projects: ['', '2', '3'].map((n, i) => ({ test: { name: 'p' + i, include: ['empty' + n + '.test.mjs'], isolate: false, sequence: { groupOrder: i + 1 } } })) } };\n`,
  );
  const vitest = join(repoRoot, 'node_modules', '.bin', 'vitest');
  return {
    // A run that failed timed no Vitest worth comparing: the section stops and says why.
    run: async (config) => {
      const r = await run([vitest, 'run', '--root', dir, '--config', join(dir, `${config}.config.mjs`)]);
      if (r.exitCode !== 0)
        throw new Error(`bare vitest run (${config}) exited ${r.exitCode}: ${r.output.slice(-500)}`);
    },
  };
}

/** Vitest's own floor: a bare `vitest run` of one empty test, no config of ours, measured in this run. */
async function floorMs(): Promise<Figure> {
  if (floor) return floor;
  const bare = bareVitest();
  const xs: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) xs.push(await timed(() => bare.run('vitest')));
  floor = figure(xs);
  results.vitest_floor = floor;
  log(`Vitest's floor (bare \`vitest run\` of one empty test): ${ms(floor)}`);
  return floor;
}
let floor: Figure | undefined;

/** The part of a phase's wall time that is not its tests: wall minus the tests' own duration as Vitest reports it. */
function testsMs(output: string): number {
  const m = /Duration .*?tests ([\d.]+)(ms|s)/.exec(output);
  if (!m) return 0;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

async function startup() {
  const f = await floorMs();
  const dir = scratch();
  const cases: Array<[string, Phase, Record<string, string>]> = [
    ['preflight', 'preflight', {}],
    ['smoke', 'smoke', {}],
    ['gonogo', 'gonogo', {}],
    ['deploy (dry run: start-up and plan)', 'deploy', { RUNBOOK_DRY_RUN: '1' }],
    ['rollback (dry run: start-up and plan)', 'rollback', { RUNBOOK_DRY_RUN: '1' }],
  ];
  const out: Record<string, unknown> = {};
  for (const [name, phase, env] of cases) {
    const fixed: number[] = [];
    const walls: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let output = '';
      const wall = await timed(async () => {
        output = (await runPhase(phase, { env: { RUNBOOK_REPORTS_DIR: dir, ...env } })).output;
      });
      walls.push(wall);
      fixed.push(wall - testsMs(output));
    }
    const fx = figure(fixed);
    out[name] = { fixed: fx, wall: figure(walls), over_floor_ms: Math.round(fx.median - f.median) };
    log(
      `start-up, ${name}: fixed cost ${ms(fx)} = floor + ${Math.round(fx.median - f.median)} ms (target ≤ floor + 500 ms)`,
    );
  }
  results.phase_startup = out;
}

// The API delays smoke runs against (BENCH_DELAYS, comma-separated ms): the runbook's 0, near and far.
const delays = (process.env.BENCH_DELAYS ?? '0,100,300').split(',').map(Number);

async function smokeVsBaseline() {
  const dir = scratch();
  const authFile = join(dir, 'auth');
  writeFileSync(authFile, `Authorization: Bearer ${t.apiKey.reveal()}\n`, { mode: 0o600 });
  const env = { API: t.apiUrl, MCP: t.mcpUrl, CA: t.caFile ?? '', AUTH_HEADER_FILE: authFile };
  const targets: Record<number, number> = { 100: 1.1, 300: 0.7 };
  for (const delay of delays) {
    await setDelay(delay);
    const harness: number[] = [];
    const baseline: number[] = [];
    let accuracy: Record<string, unknown> | undefined;
    for (let i = 0; i < RUNS; i++) {
      await warmSearches();
      harness.push(
        await timed(() => runPhase('smoke', { env: { RUNBOOK_REPORTS_DIR: join(dir, `r-${delay}-${i}`) } })),
      );
      await warmSearches();
      baseline.push(
        await timed(() => run(['bash', join(repoRoot, 'bench', 'runbook-smoke.sh')], { env, timeoutMs: 300_000 })),
      );
    }
    // One more run of smoke 9 alone, in a quiet window, for its p99 against the API's own histogram: no other
    // check's search is in the window.
    // Warmed first, outside the histogram's window, which opens 5 s before the run starts.
    await warmSearches();
    await new Promise((r) => setTimeout(r, 6000));
    const quiet = join(dir, `r-${delay}-quiet`);
    await runPhase('smoke', { env: { RUNBOOK_REPORTS_DIR: quiet }, args: ['-t', 'Smoke 9'] });
    accuracy = await p99AgainstHistogram(quiet);
    const v = versus(harness, baseline);
    results[`smoke_delay_${delay}ms`] = { harness: v.a, baseline: v.b, ratio: v.ratio, p99: accuracy };
    log(
      `smoke, ${delay} ms added to every response: harness ${ms(v.a)} vs runbook ${ms(v.b)} → ${v.times}${targets[delay] ? ` (target ≤ ${targets[delay]}×)` : ''}`,
    );
    if (accuracy)
      log(
        `  smoke 9's p99 ${accuracy.harness_ms} ms (${accuracy.samples} samples, up to ${accuracy.most_in_flight} in flight) vs the API's histogram ${accuracy.histogram_ms ?? 'n/a'} ms for the same window → ${accuracy.difference_pct ?? 'n/a'} %, ${accuracy.difference_ms ?? 'n/a'} ms (target within ±10 %)`,
      );
  }
  await setDelay(0);
}

/**
 * Smoke 9's p99, measured as the harness measures it over the requests the histogram counts, against the API's own
 * histogram over the smoke run's window. The window waits for a scrape on each side (Prometheus scrapes every 5 s),
 * after a quiet spell, so no other search is in it.
 */
async function p99AgainstHistogram(reports: string): Promise<Record<string, unknown> | undefined> {
  const e = readEvidence(reports, 'smoke');
  if (!e.ok) return undefined;
  const m = e.evidence.checks.find((c) => c.id === 'smoke.9')?.measured as
    | { samples_ms: Array<number | null>; runbook_three_exchange_ms?: Array<number | null>; most_in_flight?: number }
    | undefined;
  if (!m) return undefined;
  // The run was smoke 9 alone, so the histogram counts its searches and nothing else: the sample and the
  // runbook's three requests. The client's side counts the same requests, each from its headers going out, as the
  // server times it: the sample's go on open connections, and the runbook's first without its handshake.
  const samples = [...m.samples_ms, ...(m.runbook_three_exchange_ms ?? [])].filter(
    (x): x is number => typeof x === 'number',
  );
  const harness = percentile(samples, 99);
  const from = Date.parse(e.evidence.startedAt) - 5000;
  await new Promise((r) => setTimeout(r, 11_000));
  const seconds = Math.ceil((Date.now() - from) / 1000);
  const prom = await instant(
    t.prometheusUrl!,
    `histogram_quantile(0.99, sum by (le) (increase(http_request_duration_seconds_bucket{route="/v1/search"}[${seconds}s])))`,
  ).catch(() => undefined);
  const histogram = prom === undefined ? undefined : prom * 1000;
  return {
    harness_ms: Math.round(harness),
    histogram_ms: histogram === undefined ? null : Math.round(histogram),
    difference_pct: histogram === undefined ? null : Math.round(((harness - histogram) / histogram) * 1000) / 10,
    // Beside the percentage: at 0 ms a millisecond of TLS and parsing, which the histogram never sees, is tens of percent.
    difference_ms: histogram === undefined ? null : Math.round(harness - histogram),
    samples: samples.length,
    most_in_flight: m.most_in_flight ?? null,
  };
}

async function detectionLag() {
  const p = await composeFor(t);
  const lags = { harness5: [] as number[], shell5: [] as number[], harness3: [] as number[], shell3: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    // Step 5: the API answering /health. Reference: a 20 ms prober.
    await compose(p, composeArgs.stop(p, ['api']), { timeoutMs: 60_000 });
    const url = `${t.apiUrl}/health`;
    await compose(p, composeArgs.up(p, ['api']), { timeoutMs: 60_000 });
    let ready = 0;
    const reference = (async () => {
      for (;;) {
        const ok = await get(url, { caFile: t.caFile, timeoutMs: 1000 })
          .then((r) => r.status === 200)
          .catch(() => false);
        if (ok) return (ready = performance.now());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const harness = waitHttp200(url, { caFile: t.caFile, timeoutMs: 120_000 }).then(() => performance.now());
    const shell = run(['bash', join(repoRoot, 'bench', 'runbook-health-wait.sh')], {
      env: { URL: url, CA: t.caFile ?? '' },
      timeoutMs: 180_000,
    }).then(() => performance.now());
    const [h, s] = await Promise.all([harness, shell, reference]);
    lags.harness5.push(h - ready);
    lags.shell5.push(s - ready);

    // Step 3: a data service turning healthy. Reference: Docker's own health_status event.
    await compose(p, composeArgs.stop(p, ['redis']), { timeoutMs: 60_000 });
    let eventAt = 0;
    const unsubscribe = await onHealthEvents(t.composeProject, (svc, status) => {
      if (svc === 'redis' && status === 'healthy' && !eventAt) eventAt = performance.now();
    });
    await compose(p, composeArgs.up(p, ['redis']), { timeoutMs: 60_000 });
    const container = (await serviceStates(t.composeProject, ['redis'])).get('redis')!.name;
    const [h3, s3] = await Promise.all([
      waitHealthy(t.composeProject, ['redis'], { timeoutMs: 60_000 }).then(() => performance.now()),
      run(['bash', join(repoRoot, 'bench', 'runbook-service-wait.sh')], {
        env: { CONTAINER: container },
        timeoutMs: 120_000,
      }).then(() => performance.now()),
    ]);
    unsubscribe();
    if (eventAt) {
      lags.harness3.push(Math.max(0, h3 - eventAt));
      lags.shell3.push(Math.max(0, s3 - eventAt));
    }
  }
  for (const [k, xs] of Object.entries(lags)) results[`detection_lag_${k}`] = figure(xs);
  log(
    `readiness detection lag, step 5 (API /health): harness ${ms(figure(lags.harness5))} vs runbook 2 s loop ${ms(figure(lags.shell5))}`,
  );
  if (lags.harness3.length)
    log(
      `readiness detection lag, step 3 (redis health event): harness ${ms(figure(lags.harness3))} vs runbook 2 s loop ${ms(figure(lags.shell3))}`,
    );
  await waitHealthy(t.composeProject, ['api', 'redis'], { timeoutMs: 120_000 });
}

/** Resolves when the api container runs `image` and /health answers 200: the moment service is restored. */
async function recovered(image: string, deadlineMs: number): Promise<number> {
  const until = performance.now() + deadlineMs;
  while (performance.now() < until) {
    const api = (await serviceStates(t.composeProject, ['api']).catch(() => new Map())).get('api');
    if (api?.imageId === image && api.state === 'running') {
      const ok = await get(`${t.apiUrl}/health`, { caFile: t.caFile, timeoutMs: 1000 })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return performance.now();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`API not healthy on ${image.slice(0, 19)} within ${deadlineMs} ms`);
}

async function rollbackTimes() {
  const p = await composeFor(t);
  const harness: number[] = [];
  const shell: number[] = [];
  const harnessTotal: number[] = [];
  const steps: Record<string, number[]> = {};
  const composeWords = `${p.flavour === 'v2' ? 'docker compose' : 'docker-compose'} --project-directory ${p.projectDir} -p ${p.projectName} -f ${p.file}`;
  for (let i = 0; i < Math.max(1, RUNS - 1); i++) {
    for (const kind of ['harness', 'shell'] as const) {
      await commitToStaging();
      const d = await runPhase('deploy', { env: { RUNBOOK_REPORTS_DIR: scratch() } });
      if (d.exitCode !== 0) throw new Error(`deploy before the rollback benchmark failed:\n${d.output.slice(-2000)}`);
      const previous = readState(t.projectDir)!.PREV_API_IMAGE;
      const t0 = performance.now();
      const back = recovered(previous, 180_000);
      if (kind === 'harness') {
        const reports = scratch();
        const r = await runPhase('rollback', { env: { RUNBOOK_REPORTS_DIR: reports } });
        if (r.exitCode !== 0) throw new Error(`harness rollback failed:\n${r.output.slice(-2000)}`);
        harnessTotal.push(performance.now() - t0);
        harness.push((await back) - t0);
        const e = readEvidence(reports, 'rollback');
        if (e.ok) for (const c of e.evidence.checks) (steps[c.title] ??= []).push(c.durationMs ?? 0);
        steps['(Vitest start-up and the rest: wall minus tests)'] = [
          ...(steps['(Vitest start-up and the rest: wall minus tests)'] ?? []),
          performance.now() - t0 - testsMs(r.output),
        ];
      } else {
        const r = await run(['bash', join(repoRoot, 'bench', 'runbook-rollback.sh')], {
          env: { COMPOSE: composeWords, PROJECT_DIR: t.projectDir, URL: `${t.apiUrl}/health`, CA: t.caFile ?? '' },
          timeoutMs: 180_000,
        });
        if (r.exitCode !== 0) throw new Error(`runbook rollback failed:\n${r.output}`);
        shell.push((await back) - t0);
      }
    }
  }
  const arms = versus(harness, shell);
  results.rollback_to_recovery = {
    harness: arms.a,
    baseline: arms.b,
    ratio: arms.ratio,
    target_ratio: 1.6,
    harness_with_verification: figure(harnessTotal),
  };
  results.rollback_steps = Object.fromEntries(Object.entries(steps).map(([k, xs]) => [k, Math.round(median(xs))]));
  log(
    `rollback, start to API healthy on the previous image: harness ${ms(arms.a)} vs runbook commands ${ms(arms.b)} → ${arms.times}; harness including its verification ${ms(figure(harnessTotal))}`,
  );
  log('  where the harness rollback spends its time (median per step):');
  for (const [k, v] of Object.entries(results.rollback_steps as Record<string, number>))
    log(`    ${String(v).padStart(6)} ms  ${k}`);
  await commitToStaging();
  const again = await runPhase('deploy', { env: { RUNBOOK_REPORTS_DIR: scratch() } });
  if (again.exitCode !== 0) throw new Error('redeploy after the rollback benchmark failed');
}

/** A new commit in the staging project, so the next deploy replaces a build and leaves a previous one. */
async function commitToStaging() {
  writeFileSync(join(t.projectDir, 'api', 'build.env'), `# bench build ${Date.now()}\n`);
  const git = (...args: string[]) =>
    run(['git', '-c', 'user.name=bench', '-c', 'user.email=bench@buywhere.invalid', ...args] as [string, ...string[]], {
      cwd: t.projectDir,
    });
  await git('commit', '-qam', 'Benchmark build');
  await git('push', '-q', 'origin', 'master');
}

async function fullDeploy() {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await commitToStaging();
    xs.push(
      await timed(async () => {
        const d = await runPhase('deploy', { env: { RUNBOOK_REPORTS_DIR: scratch() } });
        if (d.exitCode !== 0) throw new Error(`deploy failed:\n${d.output.slice(-2000)}`);
      }),
    );
  }
  results.full_deploy_wall = figure(xs);
  log(`full staging deploy of a new commit, images cached: ${ms(figure(xs))}`);
}

async function gonogoCost() {
  const dir = scratch();
  await runPhase('preflight', { env: { RUNBOOK_REPORTS_DIR: dir } });
  await runPhase('smoke', { env: { RUNBOOK_REPORTS_DIR: dir } });
  const xs: number[] = [];
  for (let i = 0; i < RUNS + 2; i++)
    xs.push(await timed(() => runPhase('gonogo', { env: { RUNBOOK_REPORTS_DIR: dir } })));
  const f = await floorMs();
  results.gonogo_wall = { ...figure(xs), ratio_to_floor: median(xs) / f.median };
  log(
    `npm run gonogo on existing evidence (with Vitest start-up): ${ms(figure(xs))} → ${(median(xs) / f.median).toFixed(2)}× Vitest's floor (target ≤ 1.5×)`,
  );
}

async function stagingFigures() {
  const p = await composeFor(t);
  const services = [
    'db',
    'db_replica',
    'pgbouncer',
    'redis',
    'api',
    'mcp',
    'scraper-scheduler',
    'backup-cron',
    'metrics-collector',
    'blackbox-exporter',
    'alertmanager',
  ];
  await compose(p, composeArgs.stop(p, services), { timeoutMs: 120_000 });
  const upMs = await timed(async () => {
    await compose(p, composeArgs.up(p, services), { timeoutMs: 120_000 });
    await waitHealthy(t.composeProject, services, { timeoutMs: 300_000 });
  });
  results.staging_up_to_healthy_ms = Math.round(upMs);
  log(`staging: up to all healthy (images built, volumes kept): ${Math.round(upMs)} ms`);
  const lat: number[] = [];
  const words = ['laptop', 'iphone', 'phone', 'tablet', 'camera', 'monitor', 'headphones', 'console'];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const r = await get(
      `${t.apiUrl}/v1/search?q=${words[i % words.length]}${i % 3 ? '' : `+${i}`}&limit=5&currency=USD`,
      { caFile: t.caFile },
    );
    if (!json(r).ok) throw new Error('search answered non-JSON');
    lat.push(performance.now() - t0);
  }
  results.staging_search = {
    p50_ms: Math.round(percentile(lat, 50) * 10) / 10,
    p99_ms: Math.round(percentile(lat, 99) * 10) / 10,
    queries: 200,
  };
  log(
    `staging: search latency over 200 queries: p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${percentile(lat, 99).toFixed(1)} ms`,
  );
  const seed = await timed(async () => {
    await compose(p, composeArgs.runRm(p, 'migrate', ['alembic', 'downgrade', '0001_catalog']), { timeoutMs: 600_000 });
    await compose(p, composeArgs.runRm(p, 'migrate', ['alembic', 'upgrade', 'head']), { timeoutMs: 600_000 });
  });
  results.seed_1m_ms = Math.round(seed);
  log(
    `staging: seed of 1,000,001 products with its full-text index (downgrade to 0001, upgrade head): ${Math.round(seed)} ms`,
  );
}

/**
 * `npm run launch -- --no-deploy` (one Vitest process) against the three commands it replaces, one after another,
 * each timed as typed: npm's own start-up, and anything the command starts before Vitest, are part of what Bolt
 * waits for. The same two arms without npm follow (the launch's process, and each phase's Vitest run).
 */
async function launchOneProcess() {
  const deployed = scratch();
  const d = await runPhase('deploy', { env: { RUNBOOK_REPORTS_DIR: deployed } });
  if (d.exitCode !== 0) throw new Error(`deploy before the launch benchmark failed:\n${d.output.slice(-2000)}`);
  const withDeployEvidence = () => {
    const dir = scratch();
    mkdirSync(join(dir, 'evidence'));
    copyEvidence(deployed, dir, 'deploy');
    return dir;
  };
  const npmRun = async (args: string[], reports: string) => {
    const r = await run(['npm', 'run', '--silent', ...args], {
      cwd: repoRoot,
      // npm asks its registry whether it is out of date unless told not to: nothing here leaves the host.
      env: {
        RUNBOOK_REPORTS_DIR: reports,
        FORCE_COLOR: '0',
        npm_config_update_notifier: 'false',
      },
      timeoutMs: 10 * 60_000,
    });
    return r.exitCode;
  };
  const decision = (exit: number | undefined) => (launchDecision(exit) === 'GO' ? 'GO' : `HOLD (exit ${exit})`);
  const typed = { one: [] as number[], three: [] as number[] };
  const direct = { one: [] as number[], three: [] as number[] };
  const decisions: string[] = [];
  // Where each arm's time goes. In the launch, each part ends as a phase's evidence is written (the part holds that
  // phase's worker, its collection and its checks); the three commands are timed one by one.
  const phases3 = ['preflight', 'smoke', 'gonogo'] as const;
  const parts: Record<'preflight' | 'smoke' | 'gonogo' | 'end', number[]> = {
    preflight: [],
    smoke: [],
    gonogo: [],
    end: [],
  };
  const alone: Record<(typeof phases3)[number], number[]> = { preflight: [], smoke: [], gonogo: [] };
  for (let i = 0; i < RUNS; i++) {
    const a = withDeployEvidence();
    await warmSearches();
    let from = 0;
    let ended = 0;
    typed.one.push(
      await timed(async () => {
        from = Date.now();
        const exit = await npmRun(['launch', '--', '--no-deploy'], a);
        ended = Date.now();
        decisions.push(decision(exit));
      }),
    );
    for (const p of phases3) {
      const e = readEvidence(a, p);
      const at = e.ok ? Date.parse(e.evidence.finishedAt) : NaN;
      parts[p].push(at - from);
      from = at;
    }
    parts.end.push(ended - from);
    const b = withDeployEvidence();
    await warmSearches();
    typed.three.push(
      await timed(async () => {
        for (const p of phases3) alone[p].push(await timed(() => npmRun([p], b)));
      }),
    );
    const c = withDeployEvidence();
    await warmSearches();
    direct.one.push(
      await timed(async () => {
        const r = await launch({ echo: false, deploy: false, env: { RUNBOOK_REPORTS_DIR: c } });
        decisions.push(r.decision);
      }),
    );
    const e = withDeployEvidence();
    await warmSearches();
    direct.three.push(
      await timed(async () => {
        for (const p of phases3) await runPhase(p, { env: { RUNBOOK_REPORTS_DIR: e } });
      }),
    );
  }
  const part = (xs: number[]) => {
    const known = xs.filter(Number.isFinite);
    return known.length ? `${Math.round(median(known))} ms` : 'n/a';
  };
  const l = versus(typed.one, typed.three);
  const lb = versus(direct.one, direct.three);
  // The same comparison for Vitest alone, with empty tests: what one process of three projects saves before any
  // phase does its work, and what each project adds to that one process.
  const bare = bareVitest();
  const projects: number[] = [];
  const bareThree: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    projects.push(await timed(() => bare.run('projects')));
    bareThree.push(
      await timed(async () => {
        for (let k = 0; k < 3; k++) await bare.run('vitest');
      }),
    );
  }
  const v = versus(projects, bareThree);
  results.launch_no_deploy = {
    one_process: l.a,
    three_commands: l.b,
    ratio: l.ratio,
    without_npm: { one_process: lb.a, three_commands: lb.b, ratio: lb.ratio },
    decisions,
    vitest_alone: { three_projects: v.a, three_runs: v.b, ratio: v.ratio },
    parts: Object.fromEntries(Object.entries(parts).map(([k, xs]) => [k, xs.map(Math.round)])),
    alone: Object.fromEntries(Object.entries(alone).map(([k, xs]) => [k, xs.map(Math.round)])),
  };
  log(
    `npm run launch -- --no-deploy, one process, ${ms(l.a)} vs npm run preflight, smoke and gonogo one after another ${ms(l.b)} → ${l.times} (target ≤ 0.65×); decisions ${decisions.join(', ')}`,
  );
  log(`  the same without npm: the launch's process ${ms(lb.a)} vs the three phases' ${ms(lb.b)} → ${lb.times}`);
  log(
    `  where the time goes (medians): start-up and preflight ${part(parts.preflight)} (preflight alone ${part(alone.preflight)}), then smoke ${part(parts.smoke)} (alone ${part(alone.smoke)}), the gate ${part(parts.gonogo)} (alone ${part(alone.gonogo)}), the end ${part(parts.end)}`,
  );
  log(
    `  Vitest alone, empty tests: three projects in one process ${ms(v.a)} vs three bare runs ${ms(v.b)} → ${v.times}; each project after the first adds ${Math.round((v.a.median - v.b.median / 3) / 2)} ms to one process`,
  );
}

/**
 * 1.5's cost: a backup read to its end (pg_restore through the row counter, in a container of the db image) against
 * `pg_restore -f /dev/null` alone in the same kind of container, on staging's own backup (pg_dump -Fc -Z 1, as it
 * writes them) and on an uncompressed archive of the same catalog. MB/s are of archive bytes.
 */
async function backupThroughput() {
  const [db] = await orchestratorFor(t).replicas('db');
  if (!db) throw new Error('no running db container');
  const dir = backupsFolder();
  copyFileSync(await newestStagingBackup(), join(dir, 'catalog-z1.dump'));
  await uncompressedBackup(dir, 'catalog-z0.dump');
  // A container's start and the catalog's schema cost the same whatever the archive's size: a near-empty archive
  // measures it, and the throughput a large backup sees is net of it.
  const small = backupsFolder();
  await nearEmptyBackup(small, 'catalog-small.dump');
  const [smallBackup] = (await scanBackups(small, { pattern: '*.dump', format: 'custom' })).backups;
  const fixed: number[] = [];
  for (let i = 0; i < RUNS; i++)
    fixed.push(
      (await readArchive(smallBackup!, { image: db.imageId, dir: small, format: 'custom', timeoutMs: 60_000 })).ms,
    );
  const fixedMs = figure(fixed).median;
  log(`  fixed cost (a container, the schema, 1,000 products): ${ms(figure(fixed))}`);
  const { backups } = await scanBackups(dir, { pattern: '*.dump', format: 'custom' });
  const out: Record<string, unknown> = { fixed_ms: fixedMs };
  for (const b of backups.sort((x, y) => x.name.localeCompare(y.name))) {
    const verify: number[] = [];
    const bare: number[] = [];
    // Interleaved, so a noisy moment costs both arms alike.
    for (let i = 0; i < RUNS; i++) {
      const r = await readArchive(b, { image: db.imageId, dir, format: 'custom', timeoutMs: 600_000 });
      if (!r.complete) throw new Error(`${b.name} did not verify: ${r.why}`);
      verify.push(r.ms);
      const plain = await runOneOff({
        image: db.imageId,
        cmd: ['pg_restore', '-f', '/dev/null', `/backups/${b.name}`],
        binds: [`${dir}:/backups:ro`],
        purpose: 'bench-pg-restore',
        timeoutMs: 600_000,
      });
      if (plain.exitCode !== 0) throw new Error(`pg_restore -f /dev/null ${b.name}: exit ${plain.exitCode}`);
      bare.push(plain.ms);
    }
    const v = versus(verify, bare);
    const mbps = b.bytes / 1e6 / (v.a.median / 1000);
    const net = b.bytes / 1e6 / (Math.max(1, v.a.median - fixedMs) / 1000);
    out[b.name] = {
      mb: b.bytes / 1e6,
      verify: v.a,
      pg_restore_alone: v.b,
      ratio: v.ratio,
      mb_per_s: mbps,
      net_mb_per_s: net,
      s_per_gb: 1000 / net,
    };
    log(
      `  ${b.name} (${(b.bytes / 1e6).toFixed(0)} MB): verified in ${ms(v.a)} → ${mbps.toFixed(0)} MB/s; net of the fixed cost ${net.toFixed(0)} MB/s, ${(1000 / net).toFixed(1)} s per GB; pg_restore -f /dev/null alone ${ms(v.b)} → ${v.times}`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(small, { recursive: true, force: true });
  results.backup = out;
}

const sections: Record<string, () => Promise<void>> = {
  backup: backupThroughput,
  smoke: smokeVsBaseline,
  gonogo: gonogoCost,
  startup,
  launch: launchOneProcess,
  lag: detectionLag,
  deploy: fullDeploy,
  rollback: rollbackTimes,
  staging: stagingFigures,
};

/**
 * Removes the builds earlier bench runs and end-to-end tests left behind, but for those a container uses, those
 * the rollback state names, `:latest` and the newest three of each repository. Each deploy the bench makes adds
 * a build, and the engine lists images slower the more there are (with some hundreds, about half a second a
 * listing here, and every rollback plan lists): without this, a run would time the last run's debris.
 */
async function pruneOldBuilds() {
  const state = (() => {
    try {
      return readState(t.projectDir);
    } catch {
      return undefined;
    }
  })();
  const containers = await engine<Array<{ ImageID: string }>>('/containers/json', { query: { all: true } });
  const keep = new Set([...containers.map((c) => c.ImageID), state?.PREV_API_IMAGE, state?.PREV_MCP_IMAGE]);
  let removed = 0;
  for (const repo of [t.apiImage, t.mcpImage]) {
    const images = await listImages(repo);
    for (const i of images.filter((x, n) => n < 3 || x.tags.some((tag) => tag.endsWith(':latest')))) keep.add(i.id);
    for (const i of images.filter((x) => !keep.has(x.id)))
      for (const tag of i.tags)
        removed += await engine(`/images/${encodeURIComponent(tag)}`, { method: 'DELETE' }).then(
          () => 1,
          () => 0,
        );
  }
  log(`pruned ${removed} tags of older builds`);
}

await stagingUp(() => {});
await pruneOldBuilds();
results.machine = {
  cpus: cpus().length,
  model: cpus()[0]?.model,
  memory_gib: Math.round(totalmem() / 1024 ** 3),
  node: process.version,
  runs: RUNS,
  at: new Date().toISOString(),
};
log(`bench — ${cpus().length} × ${cpus()[0]?.model}, ${RUNS} runs each; absolute times depend on this machine`);
for (const [name, fn] of Object.entries(sections)) {
  if (only.length && !only.includes(name)) continue;
  try {
    await fn();
  } catch (err) {
    results[`${name}_error`] = (err as Error).message;
    log(`${name}: could not run: ${(err as Error).message.split('\n')[0]}`);
  }
}
rmSync(scratchRoot, { recursive: true, force: true });
writeAtomic(join(t.reportsDir, 'bench.json'), JSON.stringify(results, null, 2) + '\n');
log(`\nwritten: ${join(t.reportsDir, 'bench.json')}`);
process.exit(0);
