// A data service's own client, run inside its container through the engine's exec API, as the runbook's
// `docker exec buywhere-api-db-1 psql …` does. The client reads where to connect, and any password, from the
// container's environment: the operator gives none, and nothing secret reaches an argument list.
import { PassThrough } from 'node:stream';
import { CouldNotCheck } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { waitUntil } from '../core/wait.js';
import { docker } from './docker.js';
import type Docker from 'dockerode';

/** A running container of a service: what the exec runs in, and how a message names it. */
export interface ContainerRef {
  id: string;
  name: string;
  /** The container's own environment, as the engine reports it. */
  env: ReadonlyMap<string, string>;
}

/**
 * How a probe reaches a data service: a URL the harness connects to itself, or the service's own container,
 * found when the probe runs (a container started since the run began is the one asked).
 */
export type Reach = { url: Secret } | InContainer;

export interface InContainer {
  service: string;
  container: () => Promise<ContainerRef>;
  /** The role and database a psql inside logs in as: the runbook's `-U buywhere -d catalog`. */
  user?: string;
  database?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Added to the container's own environment for this exec only. */
  env?: string[];
  timeoutMs: number;
  /** A client that writes more than this is stopped: its answer is refused, never buffered without end. */
  maxBytes?: number;
  /** dockerode over another reach than this process's (an engine reached over ssh://, say). */
  client?: Docker;
}

/** @default 1 MiB: SHOW POOLS, INFO memory and one query's JSON are a few kilobytes. */
export const EXEC_MAX_BYTES = 1024 * 1024;

/** The exit codes a shell and runc give a command that cannot be started: not found, not executable. */
const cannotStart = new Set([126, 127]);

/**
 * Runs `cmd` in the container and returns its exit code and output. Throws CouldNotCheck, naming the container,
 * when the engine refuses, the client is missing, the output is too big, or no exit comes within the deadline.
 */
export async function execIn(ref: ContainerRef, cmd: string[], opts: ExecOptions): Promise<ExecResult> {
  const where = `\`${cmd[0]}\` in container ${ref.name}`;
  const max = opts.maxBytes ?? EXEC_MAX_BYTES;
  const d = opts.client ?? (await docker());
  const t0 = performance.now();
  const left = () => opts.timeoutMs - (performance.now() - t0);
  let exec;
  try {
    exec = await d.getContainer(ref.id).exec({
      Cmd: cmd,
      Env: opts.env ?? [],
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: false,
      Tty: false,
    });
  } catch (err) {
    throw new CouldNotCheck(`cannot run ${where}: ${engineWords(err)}`, { cause: err });
  }
  const out: Buffer[] = [];
  const errs: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    let size = 0;
    let settled = false;
    let stream: NodeJS.ReadWriteStream | undefined;
    // A deadline or an oversized answer closes the stream: the harness stops reading, whatever the client does.
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new CouldNotCheck(`${where} gave no answer within ${opts.timeoutMs} ms`)),
      Math.max(0, left()),
    );
    const sink = (into: Buffer[]) => {
      const s = new PassThrough();
      s.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) finish(new CouldNotCheck(`${where} wrote more than ${max} bytes: not read further`));
        else into.push(c);
      });
      return s;
    };
    exec.start({ hijack: true, stdin: false }).then(
      (s) => {
        stream = s;
        if (settled) return (s as unknown as { destroy?: () => void }).destroy?.();
        d.modem.demuxStream(s, sink(out), sink(errs));
        s.on('end', () => finish());
        s.on('close', () => finish());
        s.on('error', (err: Error) => finish(new CouldNotCheck(`${where}: ${err.message}`, { cause: err })));
      },
      (err: unknown) => finish(new CouldNotCheck(`cannot start ${where}: ${engineWords(err)}`, { cause: err })),
    );
  });
  // The output can end a moment before the engine records the exit code.
  const info = await waitUntil(
    async () => {
      const i = (await exec.inspect().catch((err: unknown) => {
        throw new CouldNotCheck(`the engine did not say how ${where} ended: ${engineWords(err)}`, { cause: err });
      })) as { ExitCode: number | null; Running: boolean };
      return i.Running || i.ExitCode === null ? { ready: false, last: 'still running' } : { ready: true, value: i };
    },
    { what: `${where} to exit`, timeoutMs: Math.max(1000, left()), intervalMs: 50 },
  ).then((r) => r.value);
  const stdout = Buffer.concat(out).toString('utf8');
  const stderr = Buffer.concat(errs).toString('utf8');
  if (cannotStart.has(info.ExitCode!))
    throw new CouldNotCheck(
      `container ${ref.name} cannot run \`${cmd[0]}\` (exit ${info.ExitCode}): ${firstLine(stderr || stdout) || 'no such client in its image'}`,
    );
  return { exitCode: info.ExitCode!, stdout, stderr };
}

const firstLine = (s: string) => s.trim().split('\n')[0] ?? '';

/** The engine's own message, without dockerode's request dump. */
function engineWords(err: unknown): string {
  const e = err as { statusCode?: number; json?: { message?: string }; message?: string };
  const msg = e.json?.message ?? e.message ?? String(err);
  return e.statusCode ? `(HTTP ${e.statusCode}) ${msg}` : msg;
}
