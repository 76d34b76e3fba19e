// Changing a stack on Swarm: `docker stack deploy` of the compose file and its Swarm override (a stack exists only
// in the Docker CLI; the engine has no endpoint for it), the variables that say which services run and at which
// tag, a service's command run once as a job, and the wait for an update to converge.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseEnvFile } from '../core/env-syntax.js';
import { CheckFailed, CouldNotCheck } from '../core/errors.js';
import { run, tail, type Argv } from '../core/exec.js';
import { progress } from '../core/progress.js';
import { waitUntil } from '../core/wait.js';
import { containerLogs, onEngineEvents } from '../probes/docker.js';
import { engine } from '../probes/engine.js';

export const stackLabel = 'com.docker.stack.namespace';

export interface SwarmService {
  ID: string;
  Version?: { Index?: number };
  Spec: {
    Name: string;
    Labels?: Record<string, string>;
    Mode?: { Replicated?: { Replicas?: number }; ReplicatedJob?: object };
    TaskTemplate?: {
      ContainerSpec?: { Image?: string; Args?: string[]; Command?: string[]; Healthcheck?: { Test?: string[] } };
      RestartPolicy?: object;
      Networks?: object[];
    };
  };
  PreviousSpec?: SwarmService['Spec'];
  UpdateStatus?: { State?: string; StartedAt?: string; CompletedAt?: string; Message?: string };
}

export interface SwarmTask {
  ID: string;
  ServiceID: string;
  Slot?: number;
  NodeID?: string;
  DesiredState: string;
  CreatedAt?: string;
  Status: {
    State: string;
    Timestamp?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
  Spec: { ContainerSpec?: { Image?: string } };
}

/** Where a stack comes from: the project's compose file, its Swarm override, and the .env both interpolate. */
export interface StackSource {
  stack: string;
  projectDir: string;
  composeFile: string;
  swarmFile: string;
}

/** The variable of the Swarm override that sets a service's replicas or image tag: `api` → API_REPLICAS, API_TAG. */
export const stackVar = (service: string, what: 'REPLICAS' | 'TAG' | 'REPO') =>
  `${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${what}`;

/** The tag of an image reference, without the digest a stack pins: `buywhere-api:sha-1a2b@sha256:…` → `sha-1a2b`. */
export function tagOf(image: string | undefined): string | undefined {
  const name = (image ?? '').replace(/@sha256:[0-9a-f]+$/, '');
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : undefined;
}

/** The digest an image reference pins, or undefined: `repo:tag@sha256:…` → `sha256:…`. */
export const digestOf = (ref: string | undefined) => /@(sha256:[0-9a-f]{64})$/.exec(ref ?? '')?.[1];

/**
 * The tag of an image reference with the digest it is pinned to, as the next stack deploy must name it to leave the
 * service as it is: `…/buywhere-api:sha-1a2b@sha256:…` → `sha-1a2b@sha256:…`; an unpinned one gives its tag alone.
 */
export function pinnedTagOf(image: string | undefined): string | undefined {
  const tag = tagOf(image);
  const digest = digestOf(image);
  return tag && digest ? `${tag}@${digest}` : tag;
}

/**
 * The variables of one `docker stack deploy`: every service keeps the replicas and tag it runs with, and only the
 * services being started change: one replica (or as many as they had), at the tag asked for. The override's
 * defaults start nothing, so a service this deploy does not name stays as it is, or stays out.
 */
export function stackVariables(
  current: ReadonlyArray<{ service: string; replicas: number; tag: string | undefined }>,
  start: { services: readonly string[]; tags?: Readonly<Record<string, string>> },
): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const c of current) {
    vars[stackVar(c.service, 'REPLICAS')] = String(c.replicas);
    if (c.tag) vars[stackVar(c.service, 'TAG')] = c.tag;
  }
  for (const s of start.services) {
    const now = current.find((c) => c.service === s)?.replicas ?? 0;
    vars[stackVar(s, 'REPLICAS')] = String(Math.max(1, now));
  }
  for (const [s, tag] of Object.entries(start.tags ?? {})) vars[stackVar(s, 'TAG')] = tag;
  return vars;
}

export async function listServices(stack: string, names?: readonly string[]): Promise<Map<string, SwarmService>> {
  const list = await engineCall('service list', () =>
    engine<SwarmService[]>('/services', { query: { filters: { label: [`${stackLabel}=${stack}`] } } }),
  );
  const short = (n: string) => (n.startsWith(`${stack}_`) ? n.slice(stack.length + 1) : n);
  return new Map(list.map((s) => [short(s.Spec.Name), s] as const).filter(([n]) => !names || names.includes(n)));
}

export const tasksOf = (serviceId: string) =>
  engineCall('task list', () => engine<SwarmTask[]>('/tasks', { query: { filters: { service: [serviceId] } } }));

export async function engineCall<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    throw new CouldNotCheck(`Docker engine did not answer (${what}): ${(err as Error).message}`, { cause: err });
  }
}

const replicasOf = (s: SwarmService) => s.Spec.Mode?.Replicated?.Replicas ?? 0;
const imageOf = (s: SwarmService) => s.Spec.TaskTemplate?.ContainerSpec?.Image;

/** `docker stack deploy` with the given variables; the project's .env values travel in the environment, never argv. */
/**
 * A service that runs, or is started, runs at least the replicas its <SERVICE>_SCALE in the project's .env asks for
 * (the API's two on a multi-node swarm); a stopped one (0) stays stopped.
 */
export function atScale(vars: Record<string, string>, dotenv: ReadonlyMap<string, string>): Record<string, string> {
  const out = { ...vars };
  for (const [k, v] of Object.entries(vars)) {
    if (!k.endsWith('_REPLICAS') || !(Number(v) >= 1)) continue;
    const scale = Number(dotenv.get(k.replace(/_REPLICAS$/, '_SCALE')));
    if (Number.isInteger(scale) && scale > Number(v)) out[k] = String(scale);
  }
  return out;
}

export async function stackDeploy(src: StackSource, vars: Record<string, string>, opts: { logFile?: string } = {}) {
  const envFile = join(src.projectDir, '.env');
  let dotenv: Map<string, string>;
  try {
    dotenv = parseEnvFile(readFileSync(envFile, 'utf8'), envFile).values;
  } catch (err) {
    throw new CouldNotCheck(`the stack's variables could not be read: ${(err as Error).message}`, { cause: err });
  }
  const scaled = atScale(vars, dotenv);
  const argv: Argv = [
    'docker',
    'stack',
    'deploy',
    '--resolve-image',
    'never',
    '-c',
    src.composeFile,
    '-c',
    src.swarmFile,
    src.stack,
  ];
  const show = progress(`docker stack deploy -c ${src.composeFile} -c ${src.swarmFile} ${src.stack}`);
  const r = await run(argv, {
    cwd: src.projectDir,
    env: { ...Object.fromEntries(dotenv), ...scaled },
    logFile: opts.logFile,
    timeoutMs: 180_000,
    onLine: (l) => show.line(l),
  });
  show.done(r.exitCode === 0 ? 'done' : `FAILED (exit ${r.exitCode})`);
  if (r.exitCode !== 0)
    throw new CouldNotCheck(
      `docker stack deploy ${src.stack} exited ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}:\n${tail(r.output)}`,
    );
}

/** The engine undid an update itself (the service's failure_action: rollback): the new build never took over. */
export class EngineRolledBack extends CheckFailed {
  override name = 'EngineRolledBack';
  constructor(
    readonly service: string,
    readonly fromImage: string | undefined,
    readonly toImage: string | undefined,
    readonly reason: string,
  ) {
    super(
      `the engine rolled back ${service}'s update to ${fromImage ?? 'the new image'}: ${reason}; ${service} runs ${toImage ?? 'its previous spec'} again`,
    );
  }
}

export interface ConvergeOptions {
  timeoutMs: number;
  /** The image each named service must run on every task: its id, and the reference it was started by. */
  images?: ReadonlyMap<string, { id: string; ref: string }>;
  /** Only updates started at or after this instant (ms since the epoch) are this deploy's. */
  since: number;
}

/**
 * Waits until every named service has converged (judgeConvergence): no update under way, as many running tasks as
 * replicas asked for, each at the expected image and healthy (or without a health check), and no task of this
 * deploy failed. Service and container events wake the wait; a poll every second is the fallback. This deploy's
 * update rolled back or paused by the engine stops the wait at once.
 */
export async function converge(stack: string, names: readonly string[], opts: ConvergeOptions) {
  let stop: (() => void) | undefined;
  let here: string | undefined;
  return waitUntil(
    async () => {
      const [services, nodes] = await Promise.all([listServices(stack, names), nodeStates()]);
      const waiting: string[] = [];
      let fatal: Error | undefined;
      for (const name of names) {
        const service = services.get(name);
        const tasks = service ? await tasksOf(service.ID) : [];
        const containers = new Map<string, TaskContainer | undefined>();
        for (const t of tasks.filter(isRunning)) {
          // A task on another node: its container is that node's engine's. Swarm reports such a task running only
          // once its health check passes, and the digest its spec pins is what that node pulled.
          if (t.NodeID && t.NodeID !== (here ??= await localNodeId())) {
            containers.set(t.ID, { onNode: t.NodeID, digest: digestOf(t.Spec.ContainerSpec?.Image) });
            continue;
          }
          const id = t.Status.ContainerStatus?.ContainerID;
          const info = id
            ? await engine<{ Image: string; State: { Health?: { Status: string } } }>(`/containers/${id}/json`)
            : undefined;
          containers.set(t.ID, info && { image: info.Image, health: info.State.Health?.Status });
        }
        const v = judgeConvergence(
          { name, stack, service, tasks, containers, nodes },
          opts.since,
          opts.images?.get(name),
        );
        waiting.push(...v.waiting);
        fatal ??= v.fatal;
      }
      return fatal || waiting.length ? { ready: false, last: waiting.join('; '), fatal } : { ready: true, value: null };
    },
    {
      what: `stack ${stack}: ${names.join(', ')} converged (running, healthy, at their images)`,
      timeoutMs: opts.timeoutMs,
      intervalMs: 1000,
      wake: (poll) => {
        void onEngineEvents({ type: ['service', 'container'] }, () => poll())
          .then((u) => (stop = u))
          .catch(() => {});
        return () => stop?.();
      },
    },
  );
}

/** A task the engine means to run and that runs: a replica. */
export const isRunning = (t: SwarmTask) => t.DesiredState === 'running' && t.Status.State === 'running';

/** One service as the engine shows it: its spec and update status, its tasks, and each running task's container. */
export interface ServiceView {
  name: string;
  stack: string;
  service: SwarmService | undefined;
  tasks: SwarmTask[];
  /** By task id: the container's image id and health; undefined when it could not be inspected. */
  containers: ReadonlyMap<string, TaskContainer | undefined>;
  /** The swarm's nodes by id: each one's name and state ("ready", "down"…), to say where a task waits. */
  nodes?: ReadonlyMap<string, NodeState>;
}

export interface NodeState {
  name: string;
  /** "ready", "down", "disconnected" or "unknown", as the managers see it. */
  state: string;
  availability: string;
  role: string;
}

/** A node as the engine's /nodes lists it. */
export interface SwarmNode {
  ID: string;
  Description?: { Hostname?: string };
  Status?: { State?: string; Addr?: string };
  Spec?: { Name?: string; Availability?: string; Role?: string };
}

/**
 * The swarm's nodes by id, each named by the name its spec gives it or else its hostname; nodes that share a name
 * (engines of one machine) also by their id, so that a message naming a node names one. Their addresses cannot
 * tell them apart: the manager records the address each connected from.
 */
export function namedNodes(list: readonly SwarmNode[]): Map<string, NodeState> {
  const named = (n: SwarmNode) => n.Spec?.Name || n.Description?.Hostname || n.ID.slice(0, 12);
  const shared = (name: string) => list.filter((n) => named(n) === name).length > 1;
  return new Map(
    list.map((n) => [
      n.ID,
      {
        name: shared(named(n)) ? `${named(n)} (${n.ID.slice(0, 12)})` : named(n),
        state: n.Status?.State ?? 'unknown',
        availability: n.Spec?.Availability ?? 'unknown',
        role: n.Spec?.Role ?? 'unknown',
      },
    ]),
  );
}

const nodeStates = async () => namedNodes(await engine<SwarmNode[]>('/nodes'));

/**
 * A running task's container as this engine sees it: inspected here (image id, health), or on another node, known
 * by its node and the digest its spec pins.
 */
export type TaskContainer = { image: string; health?: string } | { onNode: string; digest: string | undefined };

/** This engine's node id in its swarm. */
async function localNodeId(): Promise<string> {
  const info = await engine<{ Swarm?: { NodeID?: string } }>('/info');
  return info.Swarm?.NodeID ?? '';
}

/**
 * Why one service has not converged yet (`waiting`), or why it never will (`fatal`). An update in progress is
 * waited for whoever started it; its end is judged only when this deploy started it (`since`, ms since the epoch):
 * rolled back by the engine, or paused, is fatal. Then every replica must run, healthy, at `image`, and no task
 * started since `since` may have failed.
 */
export function judgeConvergence(
  v: ServiceView,
  since: number,
  image?: { id: string; ref: string },
): { waiting: string[]; fatal?: Error } {
  const { name, service: svc } = v;
  if (!svc) return { waiting: [`${name}: no such service in stack ${v.stack}`] };
  const node = (t: SwarmTask) => (t.NodeID ? v.nodes?.get(t.NodeID) : undefined);
  // Without a list of nodes (a view of one engine) a task is where it says; with one, only a ready node counts.
  const reachable = (t: SwarmTask) => !v.nodes || !t.NodeID || node(t)?.state === 'ready';
  const where = (t: SwarmTask) => {
    const n = node(t);
    if (!t.NodeID) return 'on no node yet';
    return n
      ? `on node ${n.name}${n.state === 'ready' ? '' : `, which is ${n.state}`}`
      : `on node ${t.NodeID.slice(0, 12)}`;
  };
  // The tasks that hold the service up, each with its node, so that a wait a lost node holds up names it: one the
  // engine means to run (or, in a stop-first update, to start next) that is not yet a replica to vouch for, and one
  // told to stop that still runs, which a stop-first update waits on before it starts that slot's new task.
  const unsettled = v.tasks
    .filter((t) =>
      t.DesiredState === 'shutdown'
        ? t.Status.State === 'running'
        : (t.DesiredState === 'running' || t.DesiredState === 'ready') && (!isRunning(t) || !reachable(t)),
    )
    .map(
      (t) =>
        `${name}.${t.Slot ?? '?'} ${where(t)}: ${t.Status.State}${t.DesiredState === 'running' ? '' : `, to be ${t.DesiredState === 'ready' ? 'started next' : 'stopped'}`}`,
    );
  const detail = unsettled.length ? ` (${unsettled.join('; ')})` : '';
  const us = svc.UpdateStatus;
  const reason = us?.Message ?? 'no reason given';
  const ours = !!us?.StartedAt && Date.parse(us.StartedAt) >= since - 1000;
  // The engine undoing an update: wait for it to finish, so that what the failure says runs is what runs.
  if (us?.State === 'rollback_started')
    return { waiting: [`${name}: the engine is rolling back its update (${reason})`] };
  if (us?.State === 'updating') return { waiting: [`${name}: updating${detail}`] };
  if (ours && us?.State?.startsWith('rollback'))
    return {
      waiting: [],
      fatal: new EngineRolledBack(name, image?.ref, imageOf(svc)?.replace(/@sha256:.*$/, ''), reason),
    };
  if (ours && us?.State === 'paused')
    return { waiting: [], fatal: new CheckFailed(`the engine paused ${name}'s update: ${reason}`) };
  const waiting: string[] = [];
  // A task this deploy started that failed: the engine is restarting it. Tasks stopped before (rollback step 1)
  // may have exited non-zero on their way down; they are not this deploy's.
  for (const t of v.tasks)
    if ((t.Status.State === 'failed' || t.Status.State === 'rejected') && Date.parse(t.CreatedAt ?? '') >= since - 1000)
      waiting.push(`${name}.${t.Slot ?? '?'} ${t.Status.State}: ${t.Status.Err ?? 'no reason given'}`);
  // A task on a node the swarm no longer hears from is still listed as running, but nothing vouches that it serves.
  const running = v.tasks.filter((t) => isRunning(t) && reachable(t));
  const want = replicasOf(svc);
  if (running.length !== want)
    return { waiting: [...waiting, `${name}: ${running.length} of ${want} running${detail}`] };
  for (const t of running) {
    const c = v.containers.get(t.ID);
    if (!c) waiting.push(`${name}.${t.Slot}: no container to inspect yet`);
    else if ('onNode' in c) {
      // Only a pinned digest names what another node runs: a tag could point anywhere by the time it pulled.
      const want = digestOf(image?.ref);
      if (image && (!want || c.digest !== want))
        waiting.push(
          `${name}.${t.Slot} ${where(t)}: runs ${c.digest ?? 'an image named by no digest'}, not ${image.ref}`,
        );
    } else {
      if (c.health && c.health !== 'healthy') waiting.push(`${name}.${t.Slot}: ${c.health}`);
      if (image && c.image !== image.id)
        waiting.push(`${name}.${t.Slot}: runs ${c.image.slice(7, 19)}, not ${image.ref} (${image.id.slice(7, 19)})`);
    }
  }
  return { waiting };
}

/** What the stack's services run now: replicas and image tag, for the variables of the next stack deploy. */
export async function currentServices(stack: string) {
  return [...(await listServices(stack))]
    .filter(([, s]) => !!s.Spec.Mode?.Replicated)
    .map(([service, s]) => ({ service, replicas: replicasOf(s), tag: pinnedTagOf(imageOf(s)) }));
}

export interface JobResult {
  exitCode: number | undefined;
  timedOut: boolean;
  durationMs: number;
  tailText: string;
}

/**
 * Runs a stack service's task once, as a `replicated-job` of the same image, mounts, environment and network,
 * with `command` in place of its own; resolves with the task's exit code and its output. The stack keeps the
 * service itself at zero replicas: it is only the template.
 */
export async function runJob(
  stack: string,
  service: string,
  command: readonly string[] | undefined,
  opts: { timeoutMs: number; logFile?: string; title: string },
): Promise<JobResult> {
  const template = (await listServices(stack, [service])).get(service);
  if (!template?.Spec.TaskTemplate?.ContainerSpec)
    throw new CouldNotCheck(`stack ${stack} has no service ${service} to run once: deploy the stack first (step 3)`);
  const started = performance.now();
  const show = progress(opts.title);
  const spec = template.Spec;
  await settleLeftoverJobs(`${spec.Name}-once-`, opts.timeoutMs, (l) => show.line(l));
  const name = `${spec.Name}-once-${Date.now().toString(36)}`;
  const created = await engineCall('create job', () =>
    engine<{ ID: string }>('/services/create', {
      method: 'POST',
      body: {
        Name: name,
        Labels: { ...spec.Labels, [stackLabel]: stack },
        TaskTemplate: {
          ...spec.TaskTemplate,
          ContainerSpec: { ...spec.TaskTemplate!.ContainerSpec, ...(command ? { Args: [...command] } : {}) },
          RestartPolicy: { Condition: 'none' },
        },
        Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
      },
    }),
  );
  try {
    const done = await waitUntil(
      async () => {
        const task = (await tasksOf(created.ID))[0];
        const state = task?.Status.State;
        return state === 'complete' || state === 'failed' || state === 'rejected'
          ? { ready: true, value: task! }
          : { ready: false, last: state ?? 'no task yet' };
      },
      { what: `${name} to run to its end`, timeoutMs: opts.timeoutMs, intervalMs: 500 },
    ).then(
      (r) => r.value,
      () => undefined,
    );
    const containerId = done?.Status.ContainerStatus?.ContainerID;
    const output = containerId ? await containerLogs(containerId, 200) : '';
    if (opts.logFile) {
      mkdirSync(dirname(opts.logFile), { recursive: true });
      appendFileSync(opts.logFile, output, { mode: 0o640 });
    }
    for (const l of output.split('\n').filter(Boolean)) show.line(l);
    const exitCode = done?.Status.State === 'complete' ? 0 : done?.Status.ContainerStatus?.ExitCode;
    show.done(!done ? 'TIMED OUT' : exitCode === 0 ? 'done' : `FAILED (exit ${exitCode ?? 'unknown'})`);
    return {
      exitCode: done ? (exitCode ?? -1) : undefined,
      timedOut: !done,
      durationMs: performance.now() - started,
      tailText: [tail(output), done?.Status.Err].filter(Boolean).join('\n'),
    };
  } finally {
    await removeJob(created.ID);
  }
}

const jobEnded = (t: SwarmTask | undefined) =>
  !t || ['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove'].includes(t.Status.State);

/** A job's containers outlive its service; neither is left behind. */
async function removeJob(id: string) {
  const containers = (await tasksOf(id).catch(() => []))
    .map((t) => t.Status.ContainerStatus?.ContainerID)
    .filter((c): c is string => !!c);
  await engine(`/services/${id}`, { method: 'DELETE' }).catch(() => {});
  for (const c of containers)
    await engine(`/containers/${c}`, { method: 'DELETE', query: { force: true } }).catch(() => {});
}

/**
 * Jobs a killed run left behind. One still running (a migration a SIGKILLed deploy started) is waited for to its
 * end before another starts: two alembic upgrades at once would race on the same tables. Then each is removed.
 */
async function settleLeftoverJobs(prefix: string, timeoutMs: number, say: (line: string) => void) {
  const left = (
    await engineCall('service list', () =>
      engine<SwarmService[]>('/services', { query: { filters: { name: [prefix] } } }),
    )
  ).filter((j) => j.Spec.Name.startsWith(prefix) && !!j.Spec.Mode?.ReplicatedJob);
  for (const job of left) {
    say(`${job.Spec.Name} was left by an earlier run; waiting for it to end before another starts`);
    await waitUntil(
      async () => {
        const tasks = await tasksOf(job.ID);
        return tasks.every(jobEnded)
          ? { ready: true, value: null }
          : { ready: false, last: tasks.map((t) => t.Status.State).join(', ') };
      },
      { what: `${job.Spec.Name}, left by an earlier run, to end`, timeoutMs, intervalMs: 500 },
    );
    await removeJob(job.ID);
  }
}
