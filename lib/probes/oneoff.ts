// A throwaway container of an image the host already has: created, run to its end under a deadline, read, and
// removed whatever happens. Backup verification and the restore drill run here, so the host needs no PostgreSQL
// client and the tools are the server's own version.
import { CouldNotCheck } from '../core/errors.js';
import { containerLogs } from './docker.js';
import { engine } from './engine.js';

export interface OneOffSpec {
  image: string;
  /** The command, as an argument array; no shell unless the array starts one. */
  cmd: string[];
  /** Host path → container path, with `:ro` where the container must not write. */
  binds?: string[];
  user?: string;
  /** Environment of the container: sent in the engine's request body, never on a command line. */
  env?: string[];
  /** @default 'none': it reads files and talks to nothing. */
  network?: 'none' | 'host';
  /** What the container is for, as its label says: a container a killed run left behind can be found by it. */
  purpose: string;
  timeoutMs: number;
  /** Output lines kept from the end. @default 400 */
  tailLines?: number;
}

export interface OneOffResult {
  exitCode: number | undefined;
  timedOut: boolean;
  output: string;
  ms: number;
}

export const oneOffLabel = 'ai.buywhere.runbook.oneoff';

/**
 * Runs the container, with no network unless asked, and returns its exit code and
 * the end of its output. A deadline that passes kills and removes it; the result says it timed out.
 */
export async function runOneOff(spec: OneOffSpec): Promise<OneOffResult> {
  const t0 = performance.now();
  let id: string | undefined;
  try {
    const created = await engine<{ Id: string }>('/containers/create', {
      method: 'POST',
      body: {
        Image: spec.image,
        Entrypoint: [],
        Cmd: spec.cmd,
        User: spec.user ?? '',
        Env: spec.env ?? [],
        Labels: { [oneOffLabel]: spec.purpose },
        HostConfig: { NetworkMode: spec.network ?? 'none', Binds: spec.binds ?? [] },
      },
    }).catch((err: Error) => {
      throw new CouldNotCheck(`cannot create a container of ${spec.image}: ${err.message}`, { cause: err });
    });
    id = created.Id;
    await engine(`/containers/${id}/start`, { method: 'POST' });
    const left = () => Math.max(1000, spec.timeoutMs - (performance.now() - t0));
    let exitCode: number | undefined;
    let timedOut = false;
    try {
      const r = await engine<{ StatusCode: number }>(`/containers/${id}/wait`, { method: 'POST', timeoutMs: left() });
      exitCode = r.StatusCode;
    } catch (err) {
      if (!/no answer from the Docker engine within/.test((err as Error).message)) throw err;
      timedOut = true;
    }
    const output = await containerLogs(id, spec.tailLines ?? 400);
    return { exitCode, timedOut, output, ms: performance.now() - t0 };
  } finally {
    if (id) await engine(`/containers/${id}`, { method: 'DELETE', query: { force: true, v: true } }).catch(() => {});
  }
}
