// npm run bench: the harness against the runbook as written, side by side in one run on the staging stack.
// Prints figures and ratios and writes reports/bench.json; nothing here passes or fails. Absolute times
// depend on the machine, so compare the ratios.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { resolveTarget, repoRoot } from '../lib/harness/config.js';
import { composeArgs, compose } from '../lib/probes/compose.js';
import { onHealthEvents, serviceStates } from '../lib/probes/docker.js';
import { writeAtomic } from '../lib/core/atomic.js';
import { run } from '../lib/core/exec.js';
import { get, json } from '../lib/probes/http.js';
import { waitHealthy } from '../lib/probes/health.js';
import { instant } from '../lib/probes/prometheus.js';
import { readState } from '../lib/operations/rollback-state.js';
import { composeFor, waitHttp200 } from '../lib/operations/stack.js';
import { median, percentile } from '../lib/core/stats.js';
import { runPhase } from '../scripts/phases.js';
import { stagingUp } from '../staging/project.js';

const t = resolveTarget().target;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const results: Record<string, unknown> = {};
const log = (s: string) => process.stdout.write(`${s}\n`);

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

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function setDelay(responseDelayMs: number) {
  await fetch(`${t.adminUrl}/admin/faults`, { method: 'PUT', body: JSON.stringify({ responseDelayMs }) });
}

async function smokeVsBaseline() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const authFile = join(dir, 'auth');
  writeFileSync(authFile, `Authorization: Bearer ${t.apiKey.reveal()}\n`, { mode: 0o600 });
  const env = { API: t.apiUrl, MCP: t.mcpUrl, CA: t.caFile ?? '', AUTH_HEADER_FILE: authFile };
  for (const delay of [0, 100]) {
    await setDelay(delay);
    const harness: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      harness.push(await timed(() => runPhase('smoke', { env: { RUNBOOK_REPORTS_DIR: join(dir, 'r') } })));
      baseline.push(
        await timed(() => run(['bash', join(repoRoot, 'bench', 'runbook-smoke.sh')], { env, timeoutMs: 300_000 })),
      );
    }
    const h = figure(harness);
    const b = figure(baseline);
    results[`smoke_delay_${delay}ms`] = { harness: h, baseline: b, ratio: h.median / b.median };
    log(
      `smoke, ${delay} ms emulated delay: harness ${ms(h)} vs runbook ${ms(b)} → ${(h.median / b.median).toFixed(2)}×`,
    );
  }
  await setDelay(0);
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
  const composeWords = `${p.flavour === 'v2' ? 'docker compose' : 'docker-compose'} --project-directory ${p.projectDir} -p ${p.projectName} -f ${p.file}`;
  for (let i = 0; i < Math.max(1, RUNS - 1); i++) {
    for (const kind of ['harness', 'shell'] as const) {
      await commitToStaging();
      const d = await runPhase('deploy', { env: { RUNBOOK_REPORTS_DIR: mkdtempSync(join(tmpdir(), 'bench-')) } });
      if (d.exitCode !== 0) throw new Error(`deploy before the rollback benchmark failed:\n${d.output.slice(-2000)}`);
      const previous = readState(t.projectDir)!.PREV_API_IMAGE;
      const t0 = performance.now();
      const back = recovered(previous, 180_000);
      if (kind === 'harness') {
        const r = await runPhase('rollback', { env: { RUNBOOK_REPORTS_DIR: mkdtempSync(join(tmpdir(), 'bench-')) } });
        if (r.exitCode !== 0) throw new Error(`harness rollback failed:\n${r.output.slice(-2000)}`);
        harnessTotal.push(performance.now() - t0);
        harness.push((await back) - t0);
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
  const h = figure(harness);
  const s = figure(shell);
  results.rollback_to_recovery = {
    harness: h,
    baseline: s,
    ratio: h.median / s.median,
    harness_with_verification: figure(harnessTotal),
  };
  log(
    `rollback, start to API healthy on the previous image: harness ${ms(h)} vs runbook commands ${ms(s)} → ${(h.median / s.median).toFixed(2)}×; harness including its verification ${ms(figure(harnessTotal))}`,
  );
  await commitToStaging();
  const again = await runPhase('deploy', { env: { RUNBOOK_REPORTS_DIR: mkdtempSync(join(tmpdir(), 'bench-')) } });
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
        const d = await runPhase('deploy', { env: { RUNBOOK_REPORTS_DIR: mkdtempSync(join(tmpdir(), 'bench-')) } });
        if (d.exitCode !== 0) throw new Error(`deploy failed:\n${d.output.slice(-2000)}`);
      }),
    );
  }
  results.full_deploy_wall = figure(xs);
  log(`full staging deploy of a new commit, images cached: ${ms(figure(xs))}`);
}

async function p99Accuracy() {
  const samples: number[] = [];
  const windowStart = Date.now();
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    await get(`${t.apiUrl}/v1/search?q=phone&limit=5&currency=USD`, { caFile: t.caFile });
    samples.push(performance.now() - t0);
  }
  const seconds = Math.ceil((Date.now() - windowStart) / 1000) + 10;
  await new Promise((r) => setTimeout(r, 6000));
  const prom = await instant(
    t.prometheusUrl!,
    `histogram_quantile(0.99, sum by (le) (increase(http_request_duration_seconds_bucket{route="/v1/search"}[${seconds}s])))`,
  ).catch(() => undefined);
  const harness = percentile(samples, 99);
  results.search_p99_accuracy = {
    harness_ms: Math.round(harness * 10) / 10,
    prometheus_histogram_ms: prom === undefined ? null : Math.round(prom * 10000) / 10,
    samples: 200,
    p50_ms: Math.round(percentile(samples, 50) * 10) / 10,
  };
  log(
    `search p99 over 200: harness ${harness.toFixed(1)} ms (client side, includes TLS and network) vs API histogram ${prom === undefined ? 'n/a' : `${(prom * 1000).toFixed(1)} ms (bucketed: 5, 10, 25, 50, 100 ms …)`}; p50 ${percentile(samples, 50).toFixed(1)} ms`,
  );
}

async function gonogoCost() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  await runPhase('preflight', { env: { RUNBOOK_REPORTS_DIR: dir } });
  await runPhase('smoke', { env: { RUNBOOK_REPORTS_DIR: dir } });
  const xs: number[] = [];
  for (let i = 0; i < RUNS + 2; i++)
    xs.push(await timed(() => runPhase('gonogo', { env: { RUNBOOK_REPORTS_DIR: dir } })));
  results.gonogo_wall = figure(xs);
  log(`npm run gonogo on existing evidence (with Vitest start-up): ${ms(figure(xs))}`);
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

const sections: Record<string, () => Promise<void>> = {
  smoke: smokeVsBaseline,
  gonogo: gonogoCost,
  p99: p99Accuracy,
  lag: detectionLag,
  deploy: fullDeploy,
  rollback: rollbackTimes,
  staging: stagingFigures,
};
const only = process.argv.slice(2);

await stagingUp(() => {});
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
writeAtomic(join(t.reportsDir, 'bench.json'), JSON.stringify(results, null, 2) + '\n');
log(`\nwritten: ${join(t.reportsDir, 'bench.json')}`);
process.exit(0);
