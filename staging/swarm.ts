// Staging on a Docker Swarm: the same compose file plus swarm.yml, deployed as a stack through the orchestrator
// seam the runbook's deploy uses, in runbook order. On one node the engine the project uses is the swarm; with
// `--nodes N` it is the manager of N-1 worker engines on this machine (staging/nodes.ts), and the images go through
// a registry on loopback. The stack binds the same host ports as the Compose stack, so only one of them runs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib/core/exec.js';
import { waitUntil } from '../lib/core/wait.js';
import { engine } from '../lib/probes/engine.js';
import { compose, composeArgs } from '../lib/probes/compose.js';
import { imageInfo, pushImage, tagImage } from '../lib/probes/docker.js';
import { rigPaths, removeRig, startRegistry, startWorker, type WorkerEngine } from './nodes.js';
import { swarmOrchestrator } from '../lib/operations/swarm-orchestrator.js';
import { listServices } from '../lib/operations/swarm-stack.js';
import {
  appServices,
  dataServices,
  edgeServices,
  monitoringServices,
  readStagingEnv,
  stagingBuild,
  stagingCompose,
  stagingPaths,
  updateStagingEnv,
  waitScraped,
  type StagingPaths,
} from './project.js';

const tail = (s: string, n = 15) => s.trim().split('\n').slice(-n).join('\n');

interface SwarmInfo {
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean };
}

/** The engine's swarm state: `active` on a manager, `inactive` before `swarm init`. */
export async function swarmState(): Promise<string> {
  const info = await engine<SwarmInfo>('/info');
  return info.Swarm?.LocalNodeState ?? 'inactive';
}

async function docker(args: string[]) {
  const r = await run(['docker', ...args] as [string, ...string[]], { timeoutMs: 180_000 });
  if (r.exitCode !== 0)
    throw new Error(`docker ${args.slice(0, 2).join(' ')} failed (exit ${r.exitCode}):\n${tail(r.output)}`);
  return r.output;
}

/** The staging stack as the runbook sees it on Swarm: the project's compose file and its copy of swarm.yml. */
export function stagingStack(paths = stagingPaths()) {
  const env = readStagingEnv(paths);
  const stack = env.get('COMPOSE_PROJECT_NAME')!;
  // Through the registry when there is one (more than one node): the repositories every node pulls from.
  const registry = env.get('REGISTRY');
  const repo = (image: string) => (registry ? `${registry}/${image}` : image);
  const orchestrator = swarmOrchestrator(
    {
      stack,
      projectDir: paths.projectDir,
      composeFile: paths.composeFile,
      swarmFile: join(paths.projectDir, 'swarm.yml'),
    },
    { api: repo('buywhere-api'), mcp: repo('buywhere-mcp') },
  );
  return { stack, orchestrator, registry };
}

interface NodeRecord {
  ID: string;
  Status?: { State?: string; Addr?: string };
  Spec?: { Role?: string };
}

/** Worker nodes the manager still lists but that are down: a killed run's. They are removed from the swarm. */
async function removeDownNodes(log: (m: string) => void) {
  const nodes = await engine<NodeRecord[]>('/nodes');
  for (const n of nodes.filter((x) => x.Spec?.Role === 'worker' && x.Status?.State !== 'ready')) {
    await engine(`/nodes/${n.ID}`, { method: 'DELETE', query: { force: true } });
    log(`node ${n.ID.slice(0, 12)} (${n.Status?.Addr ?? '?'}) was down and is removed from the swarm`);
  }
}

/** The manager's swarm on loopback, initialised on its own address and port (never every address). */
async function ensureManager(log: (m: string) => void) {
  if ((await swarmState()) === 'active') return;
  await docker([
    'swarm',
    'init',
    '--advertise-addr',
    '127.0.0.1',
    '--listen-addr',
    '127.0.0.1:2377',
    '--data-path-addr',
    '127.0.0.1',
  ]);
  log('swarm initialised on 127.0.0.1:2377');
}

/** Joins a worker engine to the manager's swarm, on its own loopback address. */
async function joinWorker(w: WorkerEngine) {
  const swarm = await engine<{ JoinTokens: { Worker: string } }>('/swarm');
  await engine(
    '/swarm/join',
    {
      method: 'POST',
      body: {
        ListenAddr: `${w.address}:2377`,
        AdvertiseAddr: w.address,
        DataPathAddr: w.address,
        RemoteAddrs: ['127.0.0.1:2377'],
        JoinToken: swarm.JoinTokens.Worker,
      },
      timeoutMs: 60_000,
    },
    w.reach,
  );
  // The engines of one machine share its hostname: each worker's node is named for the rig's own name and address,
  // as messages about a node (a deploy held up by a lost one) name it.
  const id = (await engine<{ Swarm: { NodeID: string } }>('/info', {}, w.reach)).Swarm.NodeID;
  const node = await engine<{ Version: { Index: number }; Spec: Record<string, unknown> }>(`/nodes/${id}`);
  await engine(`/nodes/${id}/update`, {
    method: 'POST',
    query: { version: node.Version.Index },
    body: { ...node.Spec, Name: `node-${w.index + 1} (${w.address})` },
  });
}

/**
 * The rig of a multi-node swarm: whatever a killed run left is removed first, then N-1 workers start and join,
 * and the registry starts. The project's .env says where the images go and where the API runs; on one node those
 * keys are removed, and the stack runs as before.
 */
async function layoutNodes(paths: StagingPaths, nodes: number, log: (m: string) => void) {
  const rig = rigPaths(paths.projectDir);
  await removeRig(rig, log);
  await ensureManager(log);
  await removeDownNodes(log);
  if (nodes === 1) {
    updateStagingEnv(paths, { REGISTRY: null, API_PLACEMENT: null, API_SCALE: null });
    return;
  }
  const port = Number(readStagingEnv(paths).get('REGISTRY_PORT'));
  const registry = await startRegistry(rig, port);
  log(`registry on ${registry}`);
  for (let i = 1; i < nodes; i++) {
    const w = await startWorker(rig, i);
    await joinWorker(w);
    log(`worker ${i} (${w.address}) joined the swarm`);
  }
  updateStagingEnv(paths, { REGISTRY: registry, API_PLACEMENT: 'node.role == worker', API_SCALE: '2' });
}

/** Pushes the images a tag names to the registry, so that every node can pull them. */
async function pushTagged(registry: string, tag: string, log: (m: string) => void) {
  for (const image of ['buywhere-api', 'buywhere-mcp']) {
    await tagImage(`${image}:${tag}`, `${registry}/${image}`, tag);
    const digest = await pushImage(`${registry}/${image}`, tag, 10 * 60_000);
    log(`${image}:${tag} pushed to ${registry} (${digest.slice(0, 19)})`);
  }
}

/**
 * `npm run staging:up -- --swarm [--nodes N]`: the Compose stack's containers stop (volumes kept: the stack uses
 * the same named volumes), the engine becomes a swarm's manager if it is not one (with N-1 workers beside it), and
 * the stack is deployed in runbook order: data services, migrations as a one-off job, then the API, MCP and the rest.
 */
export async function stagingUpSwarm(log: (m: string) => void, nodes = 1) {
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error(`--nodes takes a whole number ≥ 1, not ${nodes}`);
  const paths = await stagingBuild(log);
  const project = await stagingCompose(paths);
  const down = await compose(project, composeArgs.down(project, false), { timeoutMs: 120_000 });
  if (down.exitCode !== 0) throw new Error(`compose down failed:\n${tail(down.output)}`);
  await layoutNodes(paths, nodes, log);
  // The build :latest is, by the sha- tag the build gave it: the checkout may have moved on since.
  const latest = await imageInfo('buywhere-api:latest');
  const tag = latest?.tags.map((t) => t.split(':')[1]!).find((t) => t.startsWith('sha-'));
  if (!tag) throw new Error('buywhere-api:latest carries no sha- tag: run `npm run staging:build` first');
  const { stack, orchestrator, registry } = stagingStack(paths);
  if (registry) await pushTagged(registry, tag, log);
  const tags = { api: tag, mcp: tag };
  const logFile = join(paths.projectDir, 'backups', 'swarm-deploy.log');
  const t0 = performance.now();
  await orchestrator.start(dataServices, { logFile, timeoutMs: 180_000 });
  log(`data services converged after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const m = await orchestrator.runOnce('migrate', undefined, { title: 'migrations', logFile, timeoutMs: 600_000 });
  if (m.exitCode !== 0)
    throw new Error(
      `migrations failed (exit ${m.exitCode ?? 'none'}${m.timedOut ? ', timed out' : ''}):\n${m.tailText}`,
    );
  log('migrations ran as a one-off job, exit 0');
  await orchestrator.start([...dataServices, ...appServices, ...edgeServices, ...monitoringServices], {
    logFile,
    tags,
    timeoutMs: 300_000,
  });
  await waitScraped(paths);
  log(`stack ${stack} converged and healthy at ${tag} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** `npm run staging:down -- --swarm`: removes the stack, waits until its tasks are gone, and leaves the swarm. */
/** Whether a swarm staging of this project is laid out here: its stack has services, or a multi-node rig is left. */
export async function swarmStagingRuns(): Promise<boolean> {
  const paths = stagingPaths();
  if (existsSync(rigPaths(paths.projectDir).root)) return true;
  if ((await swarmState()) !== 'active') return false;
  return (await listServices(stagingStack(paths).stack)).size > 0;
}

export async function stagingDownSwarm(log: (m: string) => void) {
  const paths = stagingPaths();
  const { stack } = stagingStack(paths);
  if ((await swarmState()) === 'active') await removeStack(stack, log);
  else log('this engine is in no swarm; no stack to remove');
  // The workers and the registry of a multi-node swarm go too, whatever state a killed run left them in, and the
  // stack's next home is one host again.
  await removeRig(rigPaths(paths.projectDir), log);
  if (existsSync(paths.envFile)) updateStagingEnv(paths, { REGISTRY: null, API_PLACEMENT: null, API_SCALE: null });
}

async function removeStack(stack: string, log: (m: string) => void) {
  await docker(['stack', 'rm', stack]);
  const left = () =>
    engine<Array<{ Id: string; State: string }>>('/containers/json', {
      query: { all: true, filters: { label: [`com.docker.stack.namespace=${stack}`] } },
    });
  await waitUntil(
    async () => {
      const running = (await left()).filter((c) => c.State === 'running' || c.State === 'restarting');
      return running.length
        ? { ready: false, last: `${running.length} containers still running` }
        : { ready: true, value: null };
    },
    { what: `stack ${stack} removed`, timeoutMs: 120_000, intervalMs: 500 },
  );
  // Stopped task containers the engine has not pruned yet: they bind nothing, but the Compose stack's names and
  // the next stack's listing are cleaner without them.
  for (const c of await left())
    await engine(`/containers/${c.Id}`, { method: 'DELETE', query: { force: true } }).catch(() => {});
  await docker(['swarm', 'leave', '--force']);
  log(`stack ${stack} removed and the swarm left (volumes kept)`);
}
