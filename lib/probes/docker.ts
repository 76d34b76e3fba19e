import Docker from 'dockerode';
import { CouldNotCheck } from '../core/errors.js';

/** Where the Docker engine listens, as the Docker CLI reads it: DOCKER_HOST first, then the default socket. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions {
  const host = env.DOCKER_HOST;
  if (!host) return { socketPath: env.DOCKER_SOCKET ?? '/var/run/docker.sock' };
  const u = new URL(host);
  if (u.protocol === 'unix:') return { socketPath: u.pathname };
  if (u.protocol === 'tcp:' || u.protocol === 'http:')
    return { host: u.hostname, port: Number(u.port || 2375), protocol: 'http' };
  throw new CouldNotCheck(`DOCKER_HOST=${host}: only unix:// and tcp:// endpoints are supported`);
}

let client: Docker | undefined;
export function docker(): Docker {
  client ??= new Docker({ ...dockerEndpoint(), timeout: 15_000 });
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

/** Containers of a compose project, found by labels (v1 and v2 name containers differently). */
export async function serviceStates(project: string, services?: string[]): Promise<Map<string, ServiceState>> {
  let list: Docker.ContainerInfo[];
  try {
    list = await docker().listContainers({ all: true, filters: { label: [`${projectLabel}=${project}`] } });
  } catch (err) {
    throw new CouldNotCheck(`Docker engine did not answer: ${(err as Error).message}`, { cause: err });
  }
  const out = new Map<string, ServiceState>();
  for (const c of list) {
    const service = c.Labels[serviceLabel] ?? '?';
    if (services && !services.includes(service)) continue;
    if (c.Labels['com.docker.compose.oneoff'] === 'True') continue;
    const info = await docker().getContainer(c.Id).inspect();
    // An interrupted compose can leave a second, stopped container for a service; the running one counts.
    if (out.get(service)?.state === 'running' && info.State.Status !== 'running') continue;
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
    list = (await docker().listContainers({ all: true, filters: { label: [`${projectLabel}=${project}`] } })).filter(
      (c) => services.includes(c.Labels[serviceLabel] ?? '') && c.Labels['com.docker.compose.oneoff'] !== 'True',
    );
  } catch (err) {
    throw new CouldNotCheck(`Docker engine did not answer: ${(err as Error).message}`, { cause: err });
  }
  const running = list.filter((c) => c.State === 'running');
  await Promise.all(
    running.map((c) =>
      docker()
        .getContainer(c.Id)
        .stop({ t: graceS })
        .catch((err: { statusCode?: number; message: string }) => {
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

export interface ImageInfo {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  created: string;
}

export async function imageInfo(ref: string): Promise<ImageInfo | undefined> {
  try {
    const i = await docker().getImage(ref).inspect();
    return {
      id: i.Id,
      tags: i.RepoTags ?? [],
      labels: i.Config?.Labels ?? {},
      created: new Date(i.Created).toISOString(),
    };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw new CouldNotCheck(`Docker engine did not answer for image ${ref}: ${(err as Error).message}`, { cause: err });
  }
}

export async function tagImage(source: string, repo: string, tag: string): Promise<void> {
  await docker().getImage(source).tag({ repo, tag });
}

/** Images of a repository, newest first. */
export async function listImages(repo: string): Promise<ImageInfo[]> {
  const list = await docker().listImages({ filters: { reference: [repo] } });
  return list
    .sort((a, b) => b.Created - a.Created)
    .map((i) => ({
      id: i.Id,
      tags: i.RepoTags ?? [],
      labels: i.Labels ?? {},
      created: new Date(i.Created * 1000).toISOString(),
    }));
}

/**
 * Calls `onEvent` for every health_status event of the project's containers. The event stream is newline
 * delimited JSON, and a chunk is not one event, so lines are reassembled here. Returns an unsubscribe.
 */
export async function onHealthEvents(
  project: string,
  onEvent: (service: string, status: string) => void,
): Promise<() => void> {
  const stream = (await docker().getEvents({
    filters: { type: ['container'], event: ['health_status'], label: [`${projectLabel}=${project}`] },
  })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as { Action?: string; Actor?: { Attributes?: Record<string, string> } };
        const service = e.Actor?.Attributes?.[serviceLabel];
        if (service && e.Action) onEvent(service, e.Action.replace(/^health_status:\s*/, ''));
      } catch {
        // A malformed event line only costs us a wake-up; the inspect fallback still polls.
      }
    }
  });
  stream.on('error', () => {});
  return () => stream.destroy();
}

export async function containerLogs(id: string, lines = 30): Promise<string> {
  try {
    const buf = (await docker()
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
  const r = await docker().listVolumes({ filters: { label: [`com.docker.compose.project=${project}`] } });
  return (r.Volumes ?? []).filter((v) => !value || v.Labels?.[key] !== value).map((v) => v.Name);
}
