// Staging on a single-node Docker Swarm: the same compose file plus swarm.yml, deployed as a stack through the
// orchestrator seam the runbook's deploy uses, in runbook order. The stack binds the same host ports as the Compose stack, so only one of them runs.
import { join } from 'node:path';
import { run } from '../lib/core/exec.js';
import { waitUntil } from '../lib/core/wait.js';
import { engine } from '../lib/probes/engine.js';
import { compose, composeArgs } from '../lib/probes/compose.js';
import { imageInfo } from '../lib/probes/docker.js';
import { swarmOrchestrator } from '../lib/operations/swarm-orchestrator.js';
import {
  appServices,
  dataServices,
  edgeServices,
  monitoringServices,
  readStagingEnv,
  stagingBuild,
  stagingCompose,
  stagingPaths,
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
  const stack = readStagingEnv(paths).get('COMPOSE_PROJECT_NAME')!;
  const orchestrator = swarmOrchestrator(
    {
      stack,
      projectDir: paths.projectDir,
      composeFile: paths.composeFile,
      swarmFile: join(paths.projectDir, 'swarm.yml'),
    },
    { api: 'buywhere-api', mcp: 'buywhere-mcp' },
  );
  return { stack, orchestrator };
}

/**
 * `npm run staging:up -- --swarm`: the Compose stack's containers stop (volumes kept: the stack uses the same
 * named volumes), the engine becomes a single-node swarm if it is not one, and the stack is deployed in runbook
 * order: data services, migrations as a one-off job, then the API, MCP and the rest.
 */
export async function stagingUpSwarm(log: (m: string) => void) {
  const paths = await stagingBuild(log);
  const project = await stagingCompose(paths);
  const down = await compose(project, composeArgs.down(project, false), { timeoutMs: 120_000 });
  if (down.exitCode !== 0) throw new Error(`compose down failed:\n${tail(down.output)}`);
  if ((await swarmState()) !== 'active') {
    await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    log('single-node swarm initialised');
  }
  // The build :latest is, by the sha- tag the build gave it: the checkout may have moved on since.
  const latest = await imageInfo('buywhere-api:latest');
  const tag = latest?.tags.map((t) => t.split(':')[1]!).find((t) => t.startsWith('sha-'));
  if (!tag) throw new Error('buywhere-api:latest carries no sha- tag: run `npm run staging:build` first');
  const { stack, orchestrator } = stagingStack(paths);
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
  log(`stack ${stack} converged and healthy at ${tag} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** `npm run staging:down -- --swarm`: removes the stack, waits until its tasks are gone, and leaves the swarm. */
export async function stagingDownSwarm(log: (m: string) => void) {
  const { stack } = stagingStack();
  if ((await swarmState()) !== 'active') return log('this engine is in no swarm; nothing to remove');
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
