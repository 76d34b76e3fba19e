// The runbook on a real single-node Docker Swarm (RUNBOOK_ORCHESTRATOR=swarm): deploy good → smoke → GO, a build
// whose redirect loses its tag (HOLD, then `npm run rollback`), and a deploy killed mid-update. Then the same swarm
// grows to three nodes (two worker engines on 127.0.0.2 and .3, and a registry on loopback): a deploy goes through
// the registry to both workers, and a build whose health check fails is rolled back by the engine on both. The
// stack binds the same ports as the Compose stack, so this file runs after every other (lib/harness/sequencer.ts)
// and brings the Compose stack back when it ends.
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inContainer } from '../lib/harness/data-services';
import { replicaStatus, selectOne } from '../lib/probes/postgres';
import { showPools } from '../lib/probes/pgbouncer';
import { ping } from '../lib/probes/redis';
import { run } from '../lib/core/exec';
import { repoRoot, resolveTarget } from '../lib/harness/config';
import { orchestratorFor } from '../lib/operations/orchestrators';
import { readHistory, readState } from '../lib/operations/rollback-state';
import { listServices } from '../lib/operations/swarm-stack';
import { imageInfo } from '../lib/probes/docker';
import { get } from '../lib/probes/http';
import { apiTargetsDown } from '../lib/probes/prometheus';
import { stagingUp } from '../staging/project';
import { stagingDownSwarm, stagingUpSwarm, swarmState } from '../staging/swarm';
import { rigPaths, startRegistry, workerEngine } from '../staging/nodes';
import { waitUntil } from '../lib/core/wait';
import { engine } from '../lib/probes/engine';
import { existsSync } from 'node:fs';
import { status } from '../scripts/status';
import { watch } from '../scripts/watch';
import {
  commitToProject,
  evidenceDir,
  gonogo,
  killPhaseAt,
  phase,
  projectHead,
  reportsDir,
  t,
  warmUp,
} from './support/harness';

const log = (m: string) => process.stderr.write(`staging (swarm): ${m}\n`);
const shortWatch = { RUNBOOK_WATCH_INTERVAL_S: '1', RUNBOOK_WATCH_WINDOW_S: '30', RUNBOOK_WATCH_DURATION_S: '3' };
const onSwarm = { RUNBOOK_ORCHESTRATOR: 'swarm' };
const swarm = orchestratorFor({ ...t, orchestrator: 'swarm' });
const buildEnv = join(t.projectDir, 'api', 'build.env');
const goodBuildEnv = '# Fault switches baked into this build (see staging/README.md). Empty for a good build.\n';

/** The image id every running api task runs; fails when the tasks disagree. */
async function apiTaskImage(): Promise<string> {
  const ids = new Set((await swarm.replicas('api')).map((r) => r.imageId));
  expect(ids.size, `api tasks run ${[...ids].join(', ')}`).toBe(1);
  return [...ids][0]!;
}
const redirect = async () => (await get(`${t.apiUrl}/go/B09G9HDHJT`, { caFile: t.caFile })).headers.location;
const imageOf = async (sha: string) => (await imageInfo(`${t.apiImage}:sha-${sha}`))!.id;

let good: { sha: string; image: string; preflight: string; smoke: string };

beforeAll(async () => {
  await stagingUpSwarm(log);
  await warmUp();
}, 900_000);

afterAll(async () => {
  // A test that failed half way may leave a faulty build.env committed: the checkout ends on a good build.
  if (readFileSync(buildEnv, 'utf8') !== goodBuildEnv)
    await commitToProject({ 'api/build.env': goodBuildEnv }, 'Good build');
  await stagingDownSwarm(log);
  await stagingUp(log);
}, 900_000);

describe('staging on a single-node swarm (npm run staging:up -- --swarm)', () => {
  it('staging:up and staging:down say so in their --help; --swarm with another command is refused', async () => {
    for (const cmd of ['up', 'down']) {
      const help = await run(['npx', 'tsx', 'staging/cli.ts', cmd, '--help'], { cwd: repoRoot });
      expect(help.exitCode).toBe(0);
      expect(help.output).toMatch(/--swarm +up: stop the Compose stack .* down: remove that stack and leave the swarm/);
    }
    const wrong = await run(['npx', 'tsx', 'staging/cli.ts', 'build', '--swarm'], { cwd: repoRoot });
    expect(wrong.exitCode).toBe(2);
    expect(wrong.output).toContain('--swarm applies to up and down only, not build');
  });

  it('is a swarm of one manager; every service runs one replica, and the migrate template none', async () => {
    expect(await swarmState()).toBe('active');
    const services = await listServices(t.composeProject);
    for (const name of ['api', 'db', 'db_replica', 'mcp', 'pgbouncer', 'redis'])
      expect(services.get(name)?.Spec.Mode?.Replicated?.Replicas, name).toBe(1);
    expect(services.get('migrate')?.Spec.Mode?.Replicated?.Replicas).toBe(0);
    const compose = await run([
      'docker',
      'ps',
      '--filter',
      `label=com.docker.compose.project=${t.composeProject}`,
      '-q',
    ]);
    expect(compose.output.trim(), 'no Compose container runs beside the stack').toBe('');
  });

  it("the data services answer their own clients inside the stack's task containers, with no URL", async () => {
    const swarm = { composeProject: t.composeProject, orchestrator: 'swarm' as const };
    expect((await selectOne(inContainer(swarm, 'db'), 'DB primary')).value).toBe(1);
    expect(await replicaStatus(inContainer(swarm, 'db_replica'))).toMatchObject({ walReceiver: 'streaming' });
    expect((await showPools(inContainer(swarm, 'pgbouncer'))).map((p) => p.database)).toContain('catalog');
    expect(await ping(inContainer(swarm, 'redis'))).toBe('PONG');
    // The edge is in the stack too: the public address answers through it.
    expect((await get(`${t.apiUrl}/health`, { caFile: t.caFile })).status).toBe(200);
  });
});

describe('deploy, verify and roll back on Swarm (RUNBOOK_ORCHESTRATOR=swarm)', () => {
  it('a deploy of a new commit runs steps 1–8 through the stack; every api task runs its sha- image; smoke passes and the gate says GO', async () => {
    const before = await apiTaskImage();
    const sha = await commitToProject({ 'CHANGES.md': `Swarm deploy ${Date.now()}\n` }, 'A good build');
    const reports = reportsDir();
    const d = await phase('deploy', { reports, env: onSwarm });
    expect(d.exitCode, d.output.slice(-4000)).toBe(0);
    expect(d.evidence.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    expect(d.check('deploy.8').measured).toMatchObject({
      tasks: expect.arrayContaining([
        expect.stringMatching(new RegExp(`^api\\.1 running on \\S+ ${t.apiImage}:sha-${sha}$`)),
      ]),
      nodes: [expect.stringMatching(/ ready, active, manager$/)],
    });
    const image = await imageOf(sha);
    expect(image).not.toBe(before);
    expect(await apiTaskImage()).toBe(image);
    expect(readState(t.projectDir)).toMatchObject({ DEPLOY_SHA: sha, PREV_API_IMAGE: before });
    const text = await status({ ...process.env, ...onSwarm });
    expect(text).toMatch(/api +1\/1 running/);
    expect(text).toMatch(new RegExp(`api\\.1 +running +on \\S+ +${t.apiImage}:sha-${sha}`));
    expect(text).toMatch(/nodes:\n +\S+ +ready, active, manager/);

    await warmUp();
    const p = await phase('preflight', { reports, env: onSwarm });
    expect(p.exitCode, p.output.slice(-3000)).toBe(0);
    const s = await phase('smoke', { reports, env: onSwarm });
    expect(s.exitCode, s.output.slice(-3000)).toBe(0);
    expect(s.evidence.identity?.buildSources?.docker).toBe(sha);
    const g = await gonogo(reports, onSwarm);
    expect(g.decision.decision, g.reasons).toBe('GO');
    expect(g.decision.deploySha).toBe(sha);
    good = { sha, image, preflight: reports, smoke: reports };
  }, 900_000);

  it('a build whose redirect loses its tag deploys, smoke 6 fails and the gate holds; npm run rollback puts the good build back on every task and verifies', async () => {
    const bad = await commitToProject(
      { 'api/build.env': 'FAULT_UNTAGGED_REDIRECT=1\n' },
      'Bad build: untagged redirect',
    );
    const reports = reportsDir();
    const d = await phase('deploy', { reports, env: onSwarm });
    expect(d.exitCode, d.output.slice(-4000)).toBe(0);
    expect(await apiTaskImage()).toBe(await imageOf(bad));
    expect(readState(t.projectDir)).toMatchObject({ DEPLOY_SHA: bad, PREV_SHA: good.sha, PREV_API_IMAGE: good.image });
    expect(await redirect()).toBe('https://www.amazon.com/dp/B09G9HDHJT');
    await phase('preflight', { reports, env: onSwarm });
    const s = await phase('smoke', { reports, env: onSwarm });
    expect(s.check('smoke.6').status).toBe('fail');
    const g = await gonogo(reports, onSwarm);
    expect(g.decision.decision).toBe('HOLD');

    const r = await phase('rollback', {
      env: { ...onSwarm, RUNBOOK_ROLLBACK_REASON: 'affiliate tag missing on /go/' },
    });
    expect(r.exitCode, r.output.slice(-4000)).toBe(0);
    expect(await apiTaskImage()).toBe(good.image);
    expect(await redirect()).toBe('https://www.amazon.com/dp/B09G9HDHJT?tag=buywhere-20');
    for (const id of ['rollback.1', 'rollback.4', 'rollback.6.smoke1', 'rollback.6.redirect', 'rollback.7'])
      expect(r.check(id).status, id).toBe('pass');
    expect(readHistory(t.projectDir).at(-1)).toMatchObject({ event: 'rollback', deploySha: good.sha });
  }, 900_000);

  it('SIGKILL during a swarm deploy, inside each step that changes the stack (3–7; at 4 its migration job is running), leaves a state from which the next deploy succeeds', async () => {
    const sha = await commitToProject(
      { 'api/build.env': goodBuildEnv, 'CHANGES.md': `Good build again ${Date.now()}\n` },
      'Good build again',
    );
    const jobs = async () =>
      [...(await listServices(t.composeProject)).keys()].filter((n) => n.startsWith('migrate-once-'));
    await killPhaseAt('deploy', 'deploy step 4 in progress', { env: onSwarm, reports: reportsDir() });
    expect(await jobs(), 'the killed deploy left its migration job').toHaveLength(1);
    for (const step of [3, 5, 6, 7])
      await killPhaseAt('deploy', `deploy step ${step} in progress`, { env: onSwarm, reports: reportsDir() });
    const d = await phase('deploy', { env: onSwarm });
    expect(d.exitCode, d.output.slice(-4000)).toBe(0);
    expect(d.check('deploy.lock').status).toBe('pass');
    expect(d.check('deploy.4.version').status).toBe('pass');
    expect(await jobs(), 'no job is left behind').toEqual([]);
    expect(await apiTaskImage()).toBe(await imageOf(sha));
    expect(await projectHead()).toBe(sha);
  }, 900_000);
});

describe('three nodes: two worker engines and a registry (npm run staging:up -- --swarm --nodes 3)', () => {
  const pinned = (sha: string) => new RegExp(`^127\\.0\\.0\\.1:\\d+/${t.apiImage}:sha-${sha}@sha256:[0-9a-f]{64}$`);
  type Task = {
    NodeID: string;
    Status: { State: string };
    DesiredState: string;
    Spec: { ContainerSpec: { Image: string } };
  };
  const apiTasks = async () => {
    const api = (await listServices(t.composeProject, ['api'])).get('api')!;
    return (await engine<Task[]>('/tasks', { query: { filters: { service: [api.ID] } } })).filter(
      (x) => x.DesiredState === 'running' && x.Status.State === 'running',
    );
  };
  const workers = async () =>
    new Set(
      (await engine<Array<{ ID: string; Spec: { Role: string }; Status: { State: string } }>>('/nodes'))
        .filter((n) => n.Spec.Role === 'worker' && n.Status.State === 'ready')
        .map((n) => n.ID),
    );

  /** The pinned image the API ran before this describe's deploy. */
  let before = '';
  /** The reports of this describe's good deploy: its preflight and smoke evidence. */
  let goodReports = '';

  beforeAll(async () => {
    await stagingUpSwarm(log, 3);
    await warmUp();
  }, 900_000);

  it('the API runs two replicas, one on each worker, each named by the digest the registry gave it', async () => {
    const nodes = await workers();
    expect(nodes.size).toBe(2);
    const tasks = await apiTasks();
    expect(tasks).toHaveLength(2);
    expect(new Set(tasks.map((x) => x.NodeID))).toEqual(nodes);
    // The engines of this one machine share its hostname: the workers' nodes carry the rig's names.
    const named = (await swarm.inventory()).nodes.map((n) => `${n.name} ${n.role} ${n.state}`);
    expect(named).toHaveLength(3);
    expect(named).toEqual(
      expect.arrayContaining([
        'node-2 (127.0.0.2) worker ready',
        'node-3 (127.0.0.3) worker ready',
        expect.stringMatching(/ manager ready$/),
      ]),
    );
    const sha = (await projectHead()).slice(0, 7);
    for (const x of tasks)
      expect(x.Spec.ContainerSpec.Image).toMatch(/^127\.0\.0\.1:\d+\/buywhere-api:sha-[0-9a-f]+@sha256:/);
    expect(sha).toMatch(/^[0-9a-f]{7}$/);
    // The edge balances across both: the public address answers.
    expect((await get(`${t.apiUrl}/health`, { caFile: t.caFile })).status).toBe(200);
  });

  it("a replica Prometheus cannot scrape makes the watch's Prometheus triggers unknown, never a share of the others", async () => {
    const prometheus = resolveTarget().target.prometheusUrl!;
    const targetsDown = async () => (await apiTargetsDown(prometheus)).length;
    // The replica on the first worker, frozen where it runs: its port takes connections and answers nothing.
    const node2 = workerEngine(rigPaths(t.projectDir), 1);
    const [replica] = await engine<Array<{ Id: string }>>(
      '/containers/json',
      { query: { filters: { label: [`com.docker.swarm.service.name=${t.composeProject}_api`] } } },
      node2.reach,
    );
    expect(replica, 'an API replica on the first worker').toBeDefined();
    await engine(`/containers/${replica!.Id}/pause`, { method: 'POST' }, node2.reach);
    try {
      await waitUntil(
        async () => ((await targetsDown()) > 0 ? { ready: true, value: null } : { ready: false, last: 'all up' }),
        { what: 'Prometheus to miss a scrape of the frozen replica', timeoutMs: 60_000, intervalMs: 500 },
      );
      const w = await watch([], { ...process.env, ...onSwarm, ...shortWatch }, () => {});
      for (const name of ['5xx error rate', 'P99 search latency'])
        expect(
          w.states.find((x) => x.name === name),
          name,
        ).toMatchObject({
          level: 'unknown',
          detail: expect.stringMatching(
            /^Prometheus cannot scrape 127\.0\.0\.1:\d+ \(.+\): its requests are missing from the query$/,
          ),
        });
    } finally {
      await engine(`/containers/${replica!.Id}/unpause`, { method: 'POST' }, node2.reach).catch(() => {});
    }
    // The swarm may have replaced the frozen task meanwhile: the next test starts from a whole, scraped API.
    await swarm.healthy(['api'], 120_000);
    await waitUntil(
      async () =>
        (await targetsDown()) === 0 ? { ready: true, value: null } : { ready: false, last: 'a target down' },
      { what: 'Prometheus to scrape every API replica again', timeoutMs: 60_000, intervalMs: 500 },
    );
  }, 300_000);

  it('a deploy of a new commit pushes it, pins it by digest, and runs it on both workers; smoke passes and the gate says GO', async () => {
    before = (await apiTasks())[0]!.Spec.ContainerSpec.Image;
    const sha = await commitToProject(
      { 'CHANGES.md': `Three-node deploy ${Date.now()}\n` },
      'A good build, three nodes',
    );
    const reports = reportsDir();
    const d = await phase('deploy', { reports, env: onSwarm });
    expect(d.exitCode, d.output.slice(-4000)).toBe(0);
    expect(d.check('deploy.2.tag').measured).toMatchObject({
      registry: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      api_digest: expect.stringMatching(/^sha256:/),
    });
    const tasks = await apiTasks();
    expect(tasks).toHaveLength(2);
    expect(new Set(tasks.map((x) => x.NodeID))).toEqual(await workers());
    for (const x of tasks) expect(x.Spec.ContainerSpec.Image).toMatch(pinned(sha));
    await warmUp();
    await phase('preflight', { reports, env: onSwarm });
    const s = await phase('smoke', { reports, env: onSwarm });
    expect(s.exitCode, s.output.slice(-3000)).toBe(0);
    expect(s.evidence.identity?.build).toBe(sha);
    // Each replica asked on its own port, behind the edge: both name the build.
    const replicas = s.check('smoke.replicas');
    expect(replicas.status, replicas.message).toBe('pass');
    expect((replicas.measured as { replicas: Array<{ url: string; build: string }> }).replicas).toEqual([
      expect.objectContaining({ url: expect.stringMatching(/:\d+$/), build: sha }),
      expect.objectContaining({ build: sha }),
    ]);
    const g = await gonogo(reports, onSwarm);
    expect(g.decision.decision, g.reasons).toBe('GO');
    goodReports = reports;
    // The build it replaced is saved by its digest too: the bytes a rollback has every node pull back.
    expect(readState(t.projectDir)?.PREV_API_DIGEST).toBe(before.replace(/:sha-[0-9a-f]+@/, '@'));
  }, 900_000);

  it('with the registry stopped, npm run rollback is refused before it stops anything: no node could pull the previous build', async () => {
    const rig = rigPaths(t.projectDir);
    // Read now: the module's target was resolved before the rig wrote REGISTRY into staging's .env.
    const registry = resolveTarget().target.registry ?? '';
    expect(registry).toMatch(/^127\.0\.0\.1:\d+$/);
    const running = (await apiTasks()).map((x) => x.Spec.ContainerSpec.Image);
    const history = readHistory(t.projectDir).length;
    process.kill(Number(readFileSync(join(rig.registryDir, 'registry.pid'), 'utf8').trim()), 'SIGTERM');
    try {
      await waitUntil(
        () =>
          fetch(`http://${registry}/v2/`).then(
            () => ({ ready: false, last: 'still answers' }),
            () => ({ ready: true, value: null }),
          ),
        { what: 'the registry to stop', timeoutMs: 30_000, intervalMs: 100 },
      );
      const r = await phase('rollback', { env: { ...onSwarm, RUNBOOK_ROLLBACK_REASON: 'registry drill' } });
      expect(r.exitCode, r.output.slice(-3000)).not.toBe(0);
      expect(r.output).toMatch(
        new RegExp(`Rollback refused before stopping anything: could not ask the registry for ${registry}/`),
      );
      expect(r.output).toMatch(/action: +bring the registry back and rerun/);
      // Nothing was stopped or recorded: the same tasks serve, and the history has no rollback in it.
      expect((await apiTasks()).map((x) => x.Spec.ContainerSpec.Image)).toEqual(running);
      expect(readHistory(t.projectDir)).toHaveLength(history);
    } finally {
      await startRegistry(rig, Number(registry.split(':')[1]));
    }
    // A registry that answers but no longer holds the previous digest (its manifest's revision gone from storage,
    // as a cleanup would leave it): refused too, naming the digest.
    const previous = readState(t.projectDir)?.PREV_API_DIGEST ?? '';
    expect(previous).toMatch(/@sha256:[0-9a-f]{64}$/);
    const revision = join(
      rig.registryDir,
      'data/docker/registry/v2/repositories',
      t.apiImage,
      '_manifests/revisions/sha256',
      previous.split('@sha256:')[1]!,
    );
    renameSync(revision, `${revision}.away`);
    try {
      const r = await phase('rollback', { env: { ...onSwarm, RUNBOOK_ROLLBACK_REASON: 'registry drill' } });
      expect(r.exitCode, r.output.slice(-3000)).not.toBe(0);
      expect(r.output).toContain(`Rollback refused before stopping anything: ${registry} no longer holds ${previous}`);
      expect(r.output).toMatch(/action: +push it again \(docker tag /);
      expect((await apiTasks()).map((x) => x.Spec.ContainerSpec.Image)).toEqual(running);
    } finally {
      renameSync(`${revision}.away`, revision);
    }
  }, 300_000);

  it('npm run rollback puts every API task, on both workers, back on the previous build, by its digest', async () => {
    const reports = reportsDir();
    const r = await phase('rollback', {
      reports,
      env: { ...onSwarm, RUNBOOK_ROLLBACK_REASON: 'three-node rollback drill' },
    });
    expect(r.exitCode, r.output.slice(-4000)).toBe(0);
    const tasks = await apiTasks();
    expect(tasks).toHaveLength(2);
    expect(new Set(tasks.map((x) => x.NodeID))).toEqual(await workers());
    for (const x of tasks) expect(x.Spec.ContainerSpec.Image).toBe(before);
    // §6's error rate is every replica's counters, each read on its own port, not one the balancer picked.
    expect(r.check('rollback.6.errors')).toMatchObject({ status: 'pass', measured: { replicas: 2 } });
    // The digest every node pulled back is named where people read: step 2, and both posts.
    const digest = before.replace(/:sha-[0-9a-f]+@/, '@');
    expect(r.check('rollback.2').measured).toMatchObject({ digest });
    for (const post of ['rollback-initiated.md', 'rollback-complete.md'])
      expect(readFileSync(join(reports, post), 'utf8'), post).toContain(`Image: ${digest}\n`);
  }, 900_000);

  it('a build whose health check fails, on both workers: the engine rolls the update back, step 5 fails naming it, later steps are not run, every task runs the previous digest again, and the gate holds', async () => {
    const bad = await commitToProject({ 'api/build.env': 'FAULT_HEALTH_DOWN=1\n' }, 'Bad build: /health answers 503');
    // Convergence trusts Swarm's "running" for a task on another node: the engine reports a task whose image has a
    // health check as running only once the check passes. Watched here for the whole deploy: no task of the bad
    // build is ever reported running.
    const seenRunning = new Set<string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const api = (await listServices(t.composeProject, ['api'])).get('api');
        const all = api ? await engine<Task[]>('/tasks', { query: { filters: { service: [api.ID] } } }) : [];
        for (const x of all)
          if (x.Status.State === 'running' && x.Spec.ContainerSpec.Image.includes(`:sha-${bad}@`))
            seenRunning.add(x.Spec.ContainerSpec.Image);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const reports = reportsDir();
    const d = await phase('deploy', { reports, env: onSwarm }).finally(() => (watching = false));
    await watch;
    expect([...seenRunning]).toEqual([]);
    expect(d.exitCode).not.toBe(0);
    expect(d.check('deploy.5').status).toBe('fail');
    const previous = before.replace(/@sha256:.*/, '').replace(/[.]/g, '\\.');
    expect(d.check('deploy.5').message).toMatch(
      new RegExp(
        `engine rolled back api's update to 127\\.0\\.0\\.1:\\d+/${t.apiImage}:sha-${bad}.*runs ${previous}.* again`,
      ),
    );
    for (const id of ['deploy.6.up', 'deploy.7', 'deploy.8']) expect(d.check(id).status, id).toBe('not-run');
    await swarm.healthy(['api'], 120_000);
    const tasks = await apiTasks();
    expect(tasks).toHaveLength(2);
    for (const x of tasks) expect(x.Spec.ContainerSpec.Image).toBe(before);
    expect(
      readHistory(t.projectDir)
        .filter((h) => h.event === 'engine-rollback')
        .at(-1),
    ).toMatchObject({
      deploySha: bad,
    });
    const dir = evidenceDir([goodReports, 'preflight'], [reports, 'deploy'], [goodReports, 'smoke']);
    const g = await gonogo(dir, onSwarm);
    expect(g.decision.decision).toBe('HOLD');
    expect(g.reasons).toMatch(/deploy/);
  }, 900_000);

  it("a worker's engine stopped while the API updates: the deploy fails, or passes with every running API task on the new build; never a pass beside the old build", async () => {
    const sha = await commitToProject(
      { 'api/build.env': goodBuildEnv, 'CHANGES.md': `A node lost mid-deploy ${Date.now()}\n` },
      'A node lost',
    );
    const reports = reportsDir();
    // Step 5 waits 60 s here, not the runbook's 120: the manager marks a stopped node down within seconds, and the
    // wait's end is what this test reads.
    const deploying = phase('deploy', {
      reports,
      env: { ...onSwarm, RUNBOOK_STAGING_WAIT_S: '60' },
      timeoutMs: 10 * 60_000,
    });
    // The API's update is under way once the engine says so: then worker 2's engine stops, as `systemctl stop
    // docker` would on that host.
    await waitUntil(
      async () => {
        const state = (await listServices(t.composeProject, ['api'])).get('api')?.UpdateStatus?.State;
        return state === 'updating' ? { ready: true, value: null } : { ready: false, last: state ?? 'no update' };
      },
      { what: "the API's update to start", timeoutMs: 300_000, intervalMs: 100 },
    );
    const lost = workerEngine(rigPaths(t.projectDir), 2);
    process.kill(Number(readFileSync(join(lost.dir, 'docker.pid'), 'utf8').trim()), 'SIGTERM');
    const d = await deploying;
    const tasks = await apiTasks();
    const step5 = d.check('deploy.5');
    log(`a worker lost mid-deploy: deploy exit ${d.exitCode}, step 5 ${step5.status}: ${step5.message ?? 'passed'}`);
    if (d.exitCode === 0) {
      expect(d.check('deploy.5').status).toBe('pass');
      expect(tasks.length).toBe(2);
      for (const x of tasks) expect(x.Spec.ContainerSpec.Image).toMatch(pinned(sha));
      // What serves says so too: each replica's own port names the new build.
      for (const port of [0, 1]) {
        const u = new URL(t.apiLocalUrl);
        u.port = String(Number(u.port) + port);
        const health = JSON.parse((await get(`${u.origin}/health`)).text) as { build?: string };
        expect(health.build, u.origin).toBe(sha);
      }
    } else {
      expect(['fail', 'error']).toContain(d.check('deploy.5').status);
      // It says where the update waits: a task on the lost node, and that node's state as the manager sees it.
      const node = `node-${lost.index + 1} \\(${lost.address.replaceAll('.', '\\.')}\\)`;
      expect(d.check('deploy.5').message).toMatch(
        new RegExp(`api: updating \\(.*api\\.\\d on node ${node}, which is (down|unknown|disconnected)`),
      );
    }
  }, 900_000);

  it('staging:down --swarm leaves no worker engine, no registry and none of their state', async () => {
    const rig = rigPaths(t.projectDir);
    expect(existsSync(rig.root)).toBe(true);
    await stagingDownSwarm(log);
    expect(existsSync(rig.root)).toBe(false);
    // The brackets keep pgrep from finding its own shell's command line.
    const left = await run(['sh', '-c', 'pgrep -af "[d]ocker-registry|[d]ockerd .*swarm-nodes" || true']);
    expect(left.output.trim()).toBe('');
    expect(await swarmState()).toBe('inactive');
  }, 300_000);
});
