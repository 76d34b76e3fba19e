// The hosts of a multi-node staging swarm, on this one machine: worker engines on 127.0.0.2, 127.0.0.3, … and a
// registry on loopback that every engine pushes to and pulls from. The engine the project already uses is the
// manager. Each worker is its own dockerd with its own data root, exec root, pid file and socket, all under the
// staging directory; `down`, and the next `up` after a killed run, stop them and remove their state.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../lib/core/exec.js';
import { waitUntil } from '../lib/core/wait.js';
import { pidAlive } from '../lib/core/pid.js';
import { engine } from '../lib/probes/engine.js';
import { engineReach, type EngineReach } from '../lib/probes/engine-reach.js';

export interface WorkerEngine {
  /** 1 for the first worker: node 2 of the swarm. */
  index: number;
  /** The loopback address it advertises and listens on: 127.0.0.2 for the first worker. */
  address: string;
  dir: string;
  socket: string;
  reach: EngineReach;
}

export interface RigPaths {
  /** Where the workers' and the registry's state lives: beside the staging project. */
  root: string;
  registryDir: string;
}

export function rigPaths(projectDir: string): RigPaths {
  const root = join(dirname(projectDir), 'swarm-nodes');
  return { root, registryDir: join(root, 'registry') };
}

export function workerEngine(paths: RigPaths, index: number): WorkerEngine {
  const dir = join(paths.root, `node-${index + 1}`);
  const socket = join(dir, 'docker.sock');
  return {
    index,
    address: `127.0.0.${index + 1}`,
    dir,
    socket,
    reach: engineReach({ DOCKER_HOST: `unix://${socket}` }),
  };
}

/**
 * The dockerd command line of a worker: its own state and socket, no bridge, no iptables, as the manager. The
 * data root is kept apart from the exec root so that a stopped engine's mounts can be undone before removal.
 */
export function workerArgs(w: WorkerEngine): string[] {
  return [
    '--data-root',
    join(w.dir, 'data'),
    '--exec-root',
    join(w.dir, 'exec'),
    '--pidfile',
    join(w.dir, 'docker.pid'),
    '-H',
    `unix://${w.socket}`,
    '--bridge=none',
    '--iptables=false',
    '--ip-masq=false',
    // The registry on loopback is plain HTTP; engines allow that for 127.0.0.0/8 already, said here for clarity.
    '--insecure-registry',
    '127.0.0.0/8',
  ];
}

/** The registry's config: loopback only (the package's default listens on every address), storage of its own. */
export function registryConfig(dataDir: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${dataDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
}

/** Starts a daemon that outlives this command, its output in `log`, its pid in `pidFile`. */
function daemon(cmd: string, args: string[], log: string, pidFile?: string): number {
  const out = openSync(log, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  if (pidFile) writeFileSync(pidFile, `${child.pid}\n`);
  return child.pid!;
}

const pidIn = (file: string): number | undefined => {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};

/** Stops a daemon by its pid file: SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
async function stopDaemon(pidFile: string, what: string, graceMs = 20_000): Promise<void> {
  const pid = pidIn(pidFile);
  if (!pid || !pidAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const gone = await waitUntil(
    async () => (pidAlive(pid) ? { ready: false, last: `pid ${pid} still running` } : { ready: true, value: true }),
    { what: `${what} to stop`, timeoutMs: graceMs, intervalMs: 100 },
  ).catch(() => false);
  if (!gone && pidAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    await waitUntil(
      async () =>
        pidAlive(pid) ? { ready: false, last: `pid ${pid} survives SIGKILL` } : { ready: true, value: true },
      { what: `${what} to die`, timeoutMs: 5000, intervalMs: 100 },
    );
  }
}

/** Mount points under `dir`, deepest first: a stopped engine leaves nsfs and overlay mounts in its exec root. */
export function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(prefix)))
    .map((p) => p.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
}

async function unmountUnder(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) await run(['umount', '-l', m], { timeoutMs: 10_000 });
}

/** Starts worker `index`'s engine, or leaves it when it already answers; resolves once it answers. */
export async function startWorker(paths: RigPaths, index: number): Promise<WorkerEngine> {
  const w = workerEngine(paths, index);
  const answers = () =>
    engine('/version', { timeoutMs: 2000 }, w.reach).then(
      () => true,
      () => false,
    );
  if (await answers()) return w;
  mkdirSync(w.dir, { recursive: true });
  daemon('dockerd', workerArgs(w), join(w.dir, 'dockerd.log'));
  await waitUntil(
    async () => {
      if (await answers()) return { ready: true, value: w };
      const log = existsSync(join(w.dir, 'dockerd.log')) ? readFileSync(join(w.dir, 'dockerd.log'), 'utf8') : '';
      return { ready: false, last: log.trim().split('\n').at(-1) ?? 'no output yet' };
    },
    { what: `worker engine ${index + 1} (${w.address}) to answer on ${w.socket}`, timeoutMs: 60_000, intervalMs: 250 },
  );
  return w;
}

/** The registry's address (127.0.0.1:port), started unless it already answers there. */
export async function startRegistry(paths: RigPaths, port: number): Promise<string> {
  const address = `127.0.0.1:${port}`;
  const answers = () =>
    fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
  if (await answers()) return address;
  mkdirSync(join(paths.registryDir, 'data'), { recursive: true });
  const config = join(paths.registryDir, 'config.yml');
  writeFileSync(config, registryConfig(join(paths.registryDir, 'data'), port));
  const log = join(paths.registryDir, 'registry.log');
  daemon('docker-registry', ['serve', config], log, join(paths.registryDir, 'registry.pid'));
  await waitUntil(
    async () =>
      (await answers())
        ? { ready: true, value: address }
        : { ready: false, last: readFileSync(log, 'utf8').trim().split('\n').at(-1) || 'no answer yet' },
    { what: `the registry on ${address}`, timeoutMs: 30_000, intervalMs: 200 },
  );
  return address;
}

/**
 * Stops every worker engine and the registry this staging directory started, whatever state a killed run left
 * them in, and removes their state: nothing of the rig is left behind.
 */
export async function removeRig(paths: RigPaths, log: (m: string) => void): Promise<void> {
  if (!existsSync(paths.root)) return;
  for (const name of readdirSync(paths.root)
    .filter((n) => /^node-\d+$/.test(n))
    .sort()) {
    const dir = join(paths.root, name);
    const reach = engineReach({ DOCKER_HOST: `unix://${join(dir, 'docker.sock')}` });
    // Leaving first, so the manager sees the node go rather than a node that stopped answering.
    await engine('/swarm/leave', { method: 'POST', query: { force: true }, timeoutMs: 15_000 }, reach).catch(() => {});
    await stopDaemon(join(dir, 'docker.pid'), `the engine of ${name}`);
    await unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
    log(`${name}: engine stopped and its state removed`);
  }
  await stopDaemon(join(paths.registryDir, 'registry.pid'), 'the registry');
  rmSync(paths.root, { recursive: true, force: true });
}
