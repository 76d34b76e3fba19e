// The Swarm side of the orchestrator seam: a stack's services and their tasks, read and changed through the
// engine's service, task and node APIs. A task's container can be inspected only on its own node's engine; on
// another node the task's spec image stands in for the container's.
import type Docker from 'dockerode';
import { CouldNotCheck } from '../core/errors.js';
import { waitUntil } from '../core/wait.js';
import { imageInfo, type ServiceState } from '../probes/docker.js';
import { engine as call } from '../probes/engine.js';
import type { Inventory, Orchestrator, Replica, StopResult } from './orchestrator.js';
import {
  converge,
  currentServices,
  engineCall as engine,
  isRunning,
  listServices,
  namedNodes,
  runJob,
  stackDeploy,
  stackVariables,
  stackVar,
  digestOf,
  tasksOf as allTasks,
  type StackSource,
  type SwarmNode,
  type SwarmService,
  type SwarmTask,
} from './swarm-stack.js';
import { byText } from '../core/order.js';

export function swarmOrchestrator(
  src: StackSource,
  /** Image repository of each service that runs a build of ours, by service: api → buywhere-api. */
  repos: Record<string, string>,
  stopDeadlineMs = 60_000,
): Orchestrator {
  const stack = src.stack;
  const shortName = (full: string) => (full.startsWith(`${stack}_`) ? full.slice(stack.length + 1) : full);
  const stackServices = async (names?: string[]) => [...(await listServices(stack, names)).values()];
  const runningTasks = async (serviceId: string) => (await allTasks(serviceId)).filter(isRunning);
  const nodeList = async () => namedNodes(await engine('node list', () => call<SwarmNode[]>('/nodes')));
  const nodeNames = async () => new Map([...(await nodeList())].map(([id, n]) => [id, n.name]));
  const inspect = (t: SwarmTask) => {
    const id = t.Status.ContainerStatus?.ContainerID;
    return id
      ? call<Docker.ContainerInspectInfo>(`/containers/${id}/json`).catch(() => undefined)
      : Promise.resolve(undefined);
  };

  async function replicasOf(svc: SwarmService, nodes: Map<string, string>) {
    const service = shortName(svc.Spec.Name ?? svc.ID);
    return Promise.all(
      (await runningTasks(svc.ID)).map(async (t) => {
        const info = await inspect(t);
        return {
          replica: {
            service,
            id: t.ID,
            slot: t.Slot,
            node: nodes.get(t.NodeID ?? '') ?? t.NodeID,
            state: t.Status.State,
            imageId: taskImageId(info?.Image, t.Spec.ContainerSpec?.Image),
          } satisfies Replica,
          health: info
            ? ((info.State.Health?.Status as ServiceState['health'] | undefined) ?? 'none')
            : remoteHealth(t, svc),
          name: info?.Name.replace(/^\//, '') ?? `${service}.${t.Slot}`,
          image: t.Spec.ContainerSpec?.Image ?? '',
        };
      }),
    );
  }

  const self: Orchestrator = {
    kind: 'swarm',
    async start(services, opts) {
      const since = Date.now();
      const images = new Map<string, { id: string; ref: string }>();
      const pinned: Record<string, string> = {};
      for (const [service, tag] of Object.entries(opts.tags ?? {})) {
        const repo = repos[service] ?? service;
        const ref = `${repo}:${tag}`;
        const info = await imageInfo(ref);
        if (!info) throw new CouldNotCheck(`${ref} does not exist on this engine: nothing to start ${service} from`);
        // Pushed to a registry (deploy step 2), the image is named by its digest: every node runs exactly the
        // bytes that were built, whatever the tag points to by the time a node pulls it.
        const digest = info.digests.find((d) => d.startsWith(`${repo}@`))?.slice(repo.length + 1);
        pinned[service] = digest ? `${tag}@${digest}` : tag;
        images.set(service, { id: info.id, ref: `${repo}:${pinned[service]}` });
      }
      const repoVars = Object.fromEntries(Object.entries(repos).map(([s, r]) => [stackVar(s, 'REPO'), r]));
      const vars = stackVariables(await currentServices(stack), { services, tags: pinned });
      await stackDeploy(src, { ...repoVars, ...vars }, { logFile: opts.logFile });
      await converge(stack, services, { since, images, timeoutMs: opts.timeoutMs });
      return { exitCode: 0 };
    },
    async healthy(services, timeoutMs) {
      const r = await converge(stack, services, { since: Date.now(), timeoutMs });
      return { value: await self.services(services), elapsedMs: r.elapsedMs };
    },
    runOnce: (service, command, opts) => runJob(stack, service, command, opts),
    async previousImage(service) {
      const svc = (await listServices(stack, [service])).get(service);
      return svc?.PreviousSpec?.TaskTemplate?.ContainerSpec?.Image?.replace(/@sha256:.*$/, '');
    },
    async inventory() {
      const [svcs, nodeInfo] = await Promise.all([stackServices(), nodeList()]);
      const nodes = new Map([...nodeInfo].map(([id, n]) => [id, n.name]));
      const services: Inventory['services'] = [];
      const replicas: Inventory['replicas'] = [];
      for (const svc of svcs.sort((a, b) => byText(a.Spec.Name ?? '', b.Spec.Name ?? ''))) {
        const service = shortName(svc.Spec.Name ?? svc.ID);
        // The tasks the engine still means to run; the history of replaced ones stays out of the listing.
        const tasks = (await allTasks(svc.ID)).filter((t) => t.DesiredState === 'running');
        services.push({
          service,
          desired: svc.Spec.Mode?.Replicated?.Replicas ?? tasks.length,
          running: tasks.filter((t) => t.Status.State === 'running').length,
        });
        for (const t of tasks.sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0)))
          replicas.push({
            service,
            id: t.ID,
            slot: t.Slot,
            node: nodes.get(t.NodeID ?? '') ?? t.NodeID,
            state: t.Status.State,
            imageId: '',
            image: t.Spec.ContainerSpec?.Image?.replace(/@sha256:.*$/, '') ?? '',
          });
      }
      return {
        services,
        replicas,
        nodes: [...nodeInfo.values()],
      };
    },
    async services(names) {
      const [svcs, nodes] = await Promise.all([stackServices(names), nodeNames()]);
      const out = new Map<string, ServiceState>();
      for (const svc of svcs) {
        const service = shortName(svc.Spec.Name ?? svc.ID);
        const reps = await replicasOf(svc, nodes);
        const health: ServiceState['health'] = reps.length === 0 ? 'none' : worst(reps.map((r) => r.health));
        out.set(service, {
          service,
          id: svc.ID,
          name: svc.Spec.Name ?? service,
          state: reps.length ? 'running' : 'no running task',
          health,
          image: reps[0]?.image ?? specImage(svc),
          imageId: reps[0]?.replica.imageId ?? '',
          lastHealthOutput: '',
        });
      }
      return out;
    },
    async replicas(service) {
      const [svcs, nodes] = await Promise.all([stackServices([service]), nodeNames()]);
      return svcs.length ? (await replicasOf(svcs[0]!, nodes)).map((r) => r.replica) : [];
    },
    async stop(services): Promise<StopResult> {
      const svcs = await stackServices(services);
      const present = new Set(svcs.map((s) => shortName(s.Spec.Name ?? '')));
      const stopped: string[] = [];
      // Scaled to zero replicas: the engine stops every task, and the service stays, ready for the next update.
      for (const svc of svcs) {
        const spec = svc.Spec!;
        const replicated = spec.Mode?.Replicated;
        if (!replicated || replicated.Replicas === 0) continue;
        await engine(`scale ${spec.Name} to 0`, () =>
          call(`/services/${svc.ID}/update`, {
            method: 'POST',
            query: { version: svc.Version?.Index },
            body: { ...spec, Mode: { Replicated: { Replicas: 0 } } },
          }),
        );
        stopped.push(shortName(spec.Name ?? svc.ID));
      }
      const left = async () => {
        const still: string[] = [];
        for (const svc of await stackServices(services))
          if ((await allTasks(svc.ID)).some(stillUp)) still.push(shortName(svc.Spec.Name ?? svc.ID));
        return still;
      };
      const stillRunning = await waitUntil(
        async () => {
          const still = await left();
          return still.length
            ? { ready: false, last: `still running: ${still.join(', ')}` }
            : { ready: true, value: [] };
        },
        { what: `no running task of ${services.join(', ')}`, timeoutMs: stopDeadlineMs, intervalMs: 250 },
      ).then(
        (r) => r.value as string[],
        () => left(),
      );
      return { stopped, stillRunning, absent: services.filter((s) => !present.has(s)) };
    },
  };
  return self;
}

/**
 * A task whose container may still hold its ports: a task told to shut down keeps running until its container has
 * exited, and a replacement started before then finds its port taken.
 */
const stillUp = (t: SwarmTask) => ['running', 'starting'].includes(t.Status.State);

/**
 * The health of a task whose container is another node's: Swarm reports a task of a service with a health check as
 * running only once the check passes, so running is healthy there, and anything else is still starting.
 */
function remoteHealth(t: SwarmTask, svc: SwarmService): ServiceState['health'] {
  const template = svc.Spec.TaskTemplate;
  const checked = !!template && 'ContainerSpec' in template && !!template.ContainerSpec?.Healthcheck?.Test?.length;
  if (!checked) return 'none';
  return t.Status.State === 'running' ? 'healthy' : 'starting';
}

const specImage = (svc: SwarmService): string => {
  const template = svc.Spec.TaskTemplate;
  return template && 'ContainerSpec' in template ? (template.ContainerSpec?.Image ?? '') : '';
};

const order: ReadonlyArray<ServiceState['health']> = ['unhealthy', 'starting', 'none', 'healthy'];
/** A service is as healthy as its least healthy task. */
function worst(hs: Array<ServiceState['health']>): ServiceState['health'] {
  return order.find((h) => hs.includes(h)) ?? 'none';
}

/**
 * The image a task runs: its container's image id, or, when the container cannot be inspected (another node), the
 * reference its spec pins by digest, which this engine can inspect when it holds those bytes. A tag is no answer: it
 * may have been moved since the task started, and the build read from it would not be the one that runs. Without
 * either the image is unknown, and no revision is read from it.
 */
export function taskImageId(containerImage: string | undefined, specImage: string | undefined): string {
  return containerImage ?? (digestOf(specImage) ? specImage! : 'unknown');
}
