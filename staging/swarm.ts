// Staging on a single-node Docker Swarm: the same compose file plus staging/swarm.yml, deployed as a stack
// through the Docker CLI (`docker stack deploy` has no engine endpoint of its own), then read through the engine's
// service and task API. The stack binds the same host ports as the Compose stack, so only one of them runs.
import { join } from 'node:path';
import { run } from '../lib/core/exec.js';
import { waitUntil } from '../lib/core/wait.js';
import { engine } from '../lib/probes/engine.js';
import { compose, composeArgs } from '../lib/probes/compose.js';
import {
  appServices,
  dataServices,
  monitoringServices,
  readStagingEnv,
  stagingBuild,
  stagingCompose,
  stagingPaths,
  stagingSource,
} from './project.js';

const tail = (s: string, n = 15) => s.trim().split('\n').slice(-n).join('\n');

interface SwarmInfo {
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean };
}

interface Task {
  ID: string;
  Slot?: number;
  DesiredState: string;
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
  Spec?: { ContainerSpec?: { Image?: string } };
}

interface Service {
  ID: string;
  Spec: { Name: string; Mode?: { Replicated?: { Replicas?: number }; ReplicatedJob?: object } };
}

/** The engine's swarm state: `active` on a manager, `inactive` before `swarm init`. */
export async function swarmState(): Promise<string> {
  const info = await engine<SwarmInfo>('/info');
  return info.Swarm?.LocalNodeState ?? 'inactive';
}

async function docker(args: string[], env: Record<string, string> = {}, cwd?: string, timeoutMs = 180_000) {
  const r = await run(['docker', ...args] as [string, ...string[]], { env, cwd, timeoutMs });
  if (r.exitCode !== 0)
    throw new Error(`docker ${args.slice(0, 2).join(' ')} failed (exit ${r.exitCode}):\n${tail(r.output)}`);
  return r.output;
}

/** The stack's services, by their name without the stack prefix. */
export async function stackServices(stack: string): Promise<Map<string, Service>> {
  const list = await engine<Service[]>('/services', {
    query: { filters: { label: [`com.docker.stack.namespace=${stack}`] } },
  });
  return new Map(list.map((s) => [s.Spec.Name.replace(`${stack}_`, ''), s]));
}

async function tasksOf(serviceId: string): Promise<Task[]> {
  return engine<Task[]>('/tasks', { query: { filters: { service: [serviceId] } } });
}

/**
 * Every named service converged: as many running tasks as replicas asked for, each container healthy (or
 * without a health check), and no task of the current spec failed. Resolves with the time it took.
 */
export async function converged(stack: string, names: string[], timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      const services = await stackServices(stack);
      const waiting: string[] = [];
      for (const name of names) {
        const svc = services.get(name);
        if (!svc) {
          waiting.push(`${name}: no service`);
          continue;
        }
        const want = svc.Spec.Mode?.Replicated?.Replicas ?? 1;
        const running = (await tasksOf(svc.ID)).filter(
          (t) => t.DesiredState === 'running' && t.Status.State === 'running',
        );
        if (running.length !== want) {
          waiting.push(`${name}: ${running.length} of ${want} running`);
          continue;
        }
        for (const t of running) {
          const id = t.Status.ContainerStatus?.ContainerID;
          const health = id
            ? (await engine<{ State: { Health?: { Status: string } } }>(`/containers/${id}/json`)).State.Health?.Status
            : undefined;
          if (health && health !== 'healthy') waiting.push(`${name}.${t.Slot}: ${health}`);
        }
      }
      return waiting.length ? { ready: false, last: waiting.join('; ') } : { ready: true, value: null };
    },
    { what: `stack ${stack}: ${names.join(', ')} running and healthy`, timeoutMs, intervalMs: 500 },
  );
}

/**
 * Runs the stack's migrations as a one-off Swarm job (`replicated-job`: one task that runs to its end) and
 * asserts its exit code.
 */
export async function migrateJob(stack: string, env: Record<string, string>, projectDir: string, timeoutMs = 600_000) {
  const name = `${stack}_migrate-${Date.now()}`;
  await docker(
    [
      'service',
      'create',
      '--detach',
      '--name',
      name,
      '--mode',
      'replicated-job',
      '--restart-condition',
      'none',
      '--network',
      'host',
      '--env-file',
      join(projectDir, '.env'),
      '--workdir',
      '/app',
      '--label',
      `com.docker.stack.namespace=${stack}`,
      '--mount',
      `type=bind,source=${join(projectDir, 'alembic')},target=/app/alembic,readonly`,
      '--mount',
      `type=bind,source=${join(projectDir, 'alembic.ini')},target=/app/alembic.ini,readonly`,
      env.BASE_IMAGE!,
      'alembic',
      'upgrade',
      'head',
    ],
    env,
  );
  try {
    const done = await waitUntil(
      async () => {
        const svc = (await engine<Service[]>('/services', { query: { filters: { name: [name] } } }))[0];
        const task = svc && (await tasksOf(svc.ID))[0];
        const state = task?.Status.State;
        return state === 'complete' || state === 'failed' || state === 'rejected'
          ? { ready: true, value: task! }
          : { ready: false, last: state ?? 'no task yet' };
      },
      { what: `migration job ${name}`, timeoutMs, intervalMs: 500 },
    );
    const task = done.value;
    const code = task.Status.ContainerStatus?.ExitCode;
    if (task.Status.State !== 'complete' || code !== 0)
      throw new Error(
        `migrations failed: task ${task.Status.State}, exit ${code ?? 'unknown'}${task.Status.Err ? ` (${task.Status.Err})` : ''}`,
      );
  } finally {
    await docker(['service', 'rm', name]).catch(() => {});
  }
}

function stackEnv(paths = stagingPaths(), sha: string): Record<string, string> {
  return { ...Object.fromEntries(readStagingEnv(paths)), DEPLOY_SHA: sha };
}

async function deployStack(stack: string, env: Record<string, string>, projectDir: string) {
  await docker(
    [
      'stack',
      'deploy',
      '--resolve-image',
      'never',
      '--prune',
      '-c',
      'docker-compose.yml',
      '-c',
      join(stagingSource, 'swarm.yml'),
      stack,
    ],
    env,
    projectDir,
  );
}

/**
 * `npm run staging:up -- --swarm`: the Compose stack's containers stop (volumes kept: the stack uses the same
 * named volumes), the engine becomes a single-node swarm if it is not one, and the stack is deployed in runbook
 * order: data services, migrations as a one-off job, then the API, MCP and the rest.
 */
export async function stagingUpSwarm(log: (m: string) => void) {
  const paths = await stagingBuild(log);
  const project = await stagingCompose(paths);
  const stack = project.projectName;
  const down = await compose(project, composeArgs.down(project, false), { timeoutMs: 120_000 });
  if (down.exitCode !== 0) throw new Error(`compose down failed:\n${tail(down.output)}`);
  if ((await swarmState()) !== 'active') {
    await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    log('single-node swarm initialised');
  }
  const sha = (await run(['git', 'rev-parse', '--short', 'HEAD'], { cwd: paths.projectDir })).output.trim();
  const env = stackEnv(paths, sha);
  const t0 = performance.now();
  await deployStack(stack, { ...env, APP_REPLICAS: '0' }, paths.projectDir);
  await converged(stack, dataServices, 180_000);
  log(`data services converged after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await migrateJob(stack, env, paths.projectDir);
  log('migrations ran as a one-off job, exit 0');
  await deployStack(stack, { ...env, APP_REPLICAS: '1' }, paths.projectDir);
  await converged(stack, [...dataServices, ...appServices, ...monitoringServices], 300_000);
  log(`stack ${stack} converged and healthy after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** `npm run staging:down -- --swarm`: removes the stack, waits until its tasks are gone, and leaves the swarm. */
export async function stagingDownSwarm(log: (m: string) => void) {
  const project = await stagingCompose();
  const stack = project.projectName;
  if ((await swarmState()) !== 'active') return log('this engine is in no swarm; nothing to remove');
  await docker(['stack', 'rm', stack]);
  await waitUntil(
    async () => {
      const left = await engine<Array<{ Id: string }>>('/containers/json', {
        query: { all: true, filters: { label: [`com.docker.stack.namespace=${stack}`] } },
      });
      return left.length ? { ready: false, last: `${left.length} containers left` } : { ready: true, value: null };
    },
    { what: `stack ${stack} removed`, timeoutMs: 120_000, intervalMs: 500 },
  );
  await docker(['swarm', 'leave', '--force']);
  log(`stack ${stack} removed and the swarm left (volumes kept)`);
}
