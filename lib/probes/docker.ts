import type Docker from 'dockerode';
import { CouldNotCheck } from '../core/errors.js';
import { engine, EngineError } from './engine.js';
import { defaultReach, type EngineReach } from './engine-reach.js';

/**
 * dockerode over the given reach, loaded on first use: only streams (events, logs, stats, exec) need it. Its own
 * reading of DOCKER_HOST is overridden field by field, so the agent alone decides where a call goes.
 */
export async function dockerOver(reach: EngineReach): Promise<Docker> {
  const { default: Docker } = await import('dockerode');
  return new Docker({
    protocol: 'http',
    host: 'docker',
    port: 80,
    pathPrefix: '/',
    socketPath: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    agent: reach.agent,
    timeout: 15_000,
  } as Docker.DockerOptions);
}

let client: Promise<Docker> | undefined;
/** dockerode over this process's reach. */
export function docker(): Promise<Docker> {
  client ??= Promise.resolve().then(() => dockerOver(defaultReach()));
  return client;
}

export interface ServiceState {
  service: string;
  id: string;
  name: string;
  state: string;
  health: 'healthy' | 'unhealthy' | 'starting' | 'none';
  image: string;
  imageId: string;
  lastHealthOutput: string;
}

const projectLabel = 'com.docker.compose.project';
const serviceLabel = 'com.docker.compose.service';

/** A compose project's containers, stopped ones too unless only a running service's are asked for. */
function projectContainers(project: string, running?: { service: string }): Promise<Docker.ContainerInfo[]> {
  const label = [`${projectLabel}=${project}`];
  return engine<Docker.ContainerInfo[]>('/containers/json', {
    query: running
      ? { filters: { label: [...label, `${serviceLabel}=${running.service}`], status: ['running'] } }
      : { all: true, filters: { label } },
  });
}

/** Containers of a compose project, found by labels (v1 and v2 name containers differently). */
export async function serviceStates(project: string, services?: string[]): Promise<Map<string, ServiceState>> {
  let list: Docker.ContainerInfo[];
  try {
    list = await projectContainers(project);
  } catch (err) {
    throw new CouldNotCheck(`Docker engine did not answer: ${(err as Error).message}`, { cause: err });
  }
  const out = new Map<string, ServiceState>();
  for (const c of list) {
    const service = c.Labels[serviceLabel] ?? '?';
    if (services && !services.includes(service)) continue;
    if (c.Labels['com.docker.compose.oneoff'] === 'True') continue;
    const info = await engine<Docker.ContainerInspectInfo>(`/containers/${c.Id}/json`).catch((err: Error) => {
      throw new CouldNotCheck(`Docker engine did not answer for container ${c.Id.slice(0, 12)}: ${err.message}`, {
        cause: err,
      });
    });
    // An interrupted compose can leave a second, stopped container for a service; the running one counts. Of two
    // running (`--scale`, or one started by hand with Compose's labels), the one that is not healthy speaks for
    // the service: it is healthy only if every running container is.
    const before = out.get(service);
    if (before?.state === 'running' && (info.State.Status !== 'running' || before.health !== 'healthy')) continue;
    const h = info.State.Health;
    const log = h?.Log ?? [];
    out.set(service, {
      service,
      id: c.Id,
      name: info.Name.replace(/^\//, ''),
      state: info.State.Status,
      health: (h?.Status as ServiceState['health']) ?? 'none',
      image: info.Config.Image,
      imageId: info.Image,
      lastHealthOutput: (log.at(-1)?.Output ?? '').trim(),
    });
  }
  return out;
}

/**
 * Every running container of a compose service, one-off `compose run` containers aside. Compose means one, but
 * nothing stops a second (`--scale`, or one started by hand with Compose's labels): each is counted, so a build
 * that runs beside another is never left out of what runs.
 */
export async function runningContainers(
  project: string,
  service: string,
): Promise<Array<{ id: string; imageId: string }>> {
  let list: Docker.ContainerInfo[];
  try {
    list = await projectContainers(project, { service });
  } catch (err) {
    throw new CouldNotCheck(`Docker engine did not answer: ${(err as Error).message}`, { cause: err });
  }
  return list
    .filter((c) => c.Labels['com.docker.compose.oneoff'] !== 'True')
    .map((c) => ({ id: c.Id, imageId: c.ImageID }));
}

/**
 * Stops every running container of the named services at once, as `compose stop` does (SIGTERM, then SIGKILL
 * after `graceS`), through the engine's API: no Compose process to start first. Returns the services still
 * running afterwards, and those that had no container.
 */
export async function stopServices(
  project: string,
  services: string[],
  graceS = 10,
): Promise<{ stopped: string[]; stillRunning: string[]; absent: string[] }> {
  let list: Docker.ContainerInfo[];
  try {
    list = (await projectContainers(project)).filter(
      (c) => services.includes(c.Labels[serviceLabel] ?? '') && c.Labels['com.docker.compose.oneoff'] !== 'True',
    );
  } catch (err) {
    throw new CouldNotCheck(`Docker engine did not answer: ${(err as Error).message}`, { cause: err });
  }
  const running = list.filter((c) => c.State === 'running');
  await Promise.all(
    running.map((c) =>
      engine(`/containers/${c.Id}/stop`, {
        method: 'POST',
        query: { t: graceS },
        timeoutMs: (graceS + 15) * 1000,
      }).catch((err: { statusCode?: number; message: string }) => {
        // 304: it stopped by itself meanwhile.
        if (err.statusCode !== 304)
          throw new CouldNotCheck(`stopping ${c.Names[0] ?? c.Id}: ${err.message}`, { cause: err });
      }),
    ),
  );
  const after = await serviceStates(project, services);
  const present = new Set(list.map((c) => c.Labels[serviceLabel]!));
  return {
    stopped: [...new Set(running.map((c) => c.Labels[serviceLabel]!))],
    stillRunning: services.filter((s) => after.get(s)?.state === 'running'),
    absent: services.filter((s) => !present.has(s)),
  };
}

/** An image reference as a path segment: its slashes kept, as the engine's routes expect, anything else escaped. */
const pathOf = (ref: string) => ref.split('/').map(encodeURIComponent).join('/');

export interface ImageInfo {
  id: string;
  tags: string[];
  /** `repo@sha256:…` for each registry the image was pushed to or pulled from. */
  digests: string[];
  labels: Record<string, string>;
  created: string;
}

export async function imageInfo(ref: string): Promise<ImageInfo | undefined> {
  try {
    const i = await engine<Docker.ImageInspectInfo>(`/images/${pathOf(ref)}/json`);
    return {
      id: i.Id,
      tags: i.RepoTags ?? [],
      digests: i.RepoDigests ?? [],
      labels: i.Config?.Labels ?? {},
      created: new Date(i.Created).toISOString(),
    };
  } catch (err) {
    if (err instanceof EngineError && err.statusCode === 404) return undefined;
    throw new CouldNotCheck(`Docker engine did not answer for image ${ref}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Whether the registry still holds `repo@sha256:…`, asked through the engine, which reaches the registry as the
 * nodes do (its insecure-registry settings, its logins). false: the registry answered that it has no such manifest;
 * a registry that cannot be asked is a CouldNotCheck, never a yes.
 */
export async function registryHolds(ref: string): Promise<boolean> {
  try {
    const d = await engine<{ Descriptor?: { digest?: string } }>(`/distribution/${pathOf(ref)}/json`, {
      timeoutMs: 30_000,
    });
    return !!d?.Descriptor?.digest && ref.endsWith(`@${d.Descriptor.digest}`);
  } catch (err) {
    if (err instanceof EngineError && err.statusCode === 404) return false;
    throw new CouldNotCheck(`could not ask the registry for ${ref}: ${(err as Error).message}`, { cause: err });
  }
}

export async function tagImage(source: string, repo: string, tag: string): Promise<void> {
  await engine(`/images/${pathOf(source)}/tag`, { method: 'POST', query: { repo, tag } });
}

/**
 * Pushes `repo:tag` to its registry and returns the digest the registry gave it, so what runs can be named by its
 * bytes. Fails, naming the registry's words, when the push reports an error or gives no digest within the deadline.
 */
export async function pushImage(repo: string, tag: string, timeoutMs: number): Promise<string> {
  const d = await docker();
  const ref = `${repo}:${tag}`;
  const stream = (await d.getImage(ref).push({ tag, authconfig: {} })) as NodeJS.ReadableStream & {
    destroy?: () => void;
  };
  const events = await new Promise<Array<{ error?: string; aux?: { Digest?: string } }>>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy?.();
      reject(new CouldNotCheck(`pushing ${ref}: no end within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    d.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string; aux?: { Digest?: string } }>) => {
      clearTimeout(timer);
      if (err) reject(new CouldNotCheck(`pushing ${ref}: ${err.message}`, { cause: err }));
      else resolve(out);
    });
  });
  const failed = events.find((e) => e.error);
  if (failed) throw new CouldNotCheck(`pushing ${ref}: the registry said ${failed.error}`);
  const digest = events.map((e) => e.aux?.Digest).find((x) => /^sha256:[0-9a-f]{64}$/.test(x ?? ''));
  if (!digest) throw new CouldNotCheck(`pushing ${ref}: the push ended without a digest`);
  return digest;
}

/** Images of a repository, newest first. */
export async function listImages(repo: string): Promise<ImageInfo[]> {
  const list = await engine<Docker.ImageInfo[]>('/images/json', { query: { filters: { reference: [repo] } } });
  return list
    .sort((a, b) => b.Created - a.Created)
    .map((i) => ({
      id: i.Id,
      tags: i.RepoTags ?? [],
      digests: i.RepoDigests ?? [],
      labels: i.Labels ?? {},
      created: new Date(i.Created * 1000).toISOString(),
    }));
}

/**
 * Calls `onEvent` for every engine event the filters let through. The event stream is newline delimited JSON,
 * and a chunk is not one event, so lines are reassembled here. Returns an unsubscribe.
 */
export async function onEngineEvents(
  filters: Record<string, string[]>,
  onEvent: (e: { Type?: string; Action?: string; Actor?: { Attributes?: Record<string, string> } }) => void,
): Promise<() => void> {
  const stream = (await (await docker()).getEvents({ filters })) as unknown as NodeJS.ReadableStream & {
    destroy(): void;
  };
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        onEvent(JSON.parse(line) as Parameters<typeof onEvent>[0]);
      } catch {
        // A malformed event line only costs us a wake-up; the inspect fallback still polls.
      }
    }
  });
  stream.on('error', () => {});
  return () => stream.destroy();
}

/** Calls `onEvent` for every health_status event of the project's containers. Returns an unsubscribe. */
export function onHealthEvents(
  project: string,
  onEvent: (service: string, status: string) => void,
): Promise<() => void> {
  return onEngineEvents(
    { type: ['container'], event: ['health_status'], label: [`${projectLabel}=${project}`] },
    (e) => {
      const service = e.Actor?.Attributes?.[serviceLabel];
      if (service && e.Action) onEvent(service, e.Action.replace(/^health_status:\s*/, ''));
    },
  );
}

export async function containerLogs(id: string, lines = 30): Promise<string> {
  try {
    const buf = (await (
      await docker()
    )
      .getContainer(id)
      .logs({ stdout: true, stderr: true, tail: lines })) as unknown as Buffer;
    return demux(buf);
  } catch {
    return '';
  }
}

/** Docker multiplexes stdout and stderr of non-TTY containers into 8-byte-headed frames. */
export function demux(buf: Buffer): string {
  const parts: string[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size).toString('utf8'));
    i += 8 + size;
  }
  return i === 0 ? buf.toString('utf8') : parts.join('');
}

/** Volumes of a compose project whose label `key` is not `value`. */
export async function volumesNotLabelled(project: string, key: string, value: string | undefined): Promise<string[]> {
  const r = await engine<{ Volumes?: Docker.VolumeInspectInfo[] }>('/volumes', {
    query: { filters: { label: [`com.docker.compose.project=${project}`] } },
  });
  return (r.Volumes ?? []).filter((v) => !value || v.Labels?.[key] !== value).map((v) => v.Name);
}

/**
 * The running container of a service on this engine, to run a client in: a Compose container by the project's
 * labels, or a Swarm task's container by its service's name (`<stack>_<service>`). None running is an error that
 * names the service, and says whether it has a stopped container.
 */
export async function serviceContainer(
  project: string,
  service: string,
  kind: 'compose' | 'swarm',
): Promise<{ id: string; name: string; env: Map<string, string> }> {
  const label =
    kind === 'swarm'
      ? [`com.docker.swarm.service.name=${project}_${service}`]
      : [`${projectLabel}=${project}`, `${serviceLabel}=${service}`];
  let list: Docker.ContainerInfo[];
  try {
    list = await engine<Docker.ContainerInfo[]>('/containers/json', { query: { all: true, filters: { label } } });
  } catch (err) {
    throw new CouldNotCheck(`Docker engine did not answer: ${(err as Error).message}`, { cause: err });
  }
  list = list.filter((c) => c.Labels['com.docker.compose.oneoff'] !== 'True');
  const running = list.find((c) => c.State === 'running');
  if (!running) {
    const seen = list[0]
      ? `its container ${list[0].Names[0]?.replace(/^\//, '')} is ${list[0].State}`
      : 'it has no container';
    throw new CouldNotCheck(`service ${service} of ${project} is not running: ${seen}`);
  }
  const info = await engine<Docker.ContainerInspectInfo>(`/containers/${running.Id}/json`).catch((err: Error) => {
    throw new CouldNotCheck(`Docker engine did not answer for container ${running.Id.slice(0, 12)}: ${err.message}`, {
      cause: err,
    });
  });
  const env = new Map(
    (info.Config.Env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const),
  );
  return { id: running.Id, name: info.Name.replace(/^\//, ''), env };
}
