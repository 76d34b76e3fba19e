import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CouldNotCheck } from './errors.js';
import { stepInProgress } from './step-signal.js';

export type Argv = readonly [string, ...string[]];

export interface RunOptions {
  cwd?: string;
  /** Extra environment. Secrets travel here, never in argv. */
  env?: Record<string, string | undefined>;
  /** Kill the whole process group after this many ms. @default 120000 */
  timeoutMs?: number;
  /** Append stdout and stderr here as they arrive. */
  logFile?: string;
  /** Called with each output line, for live progress. */
  onLine?: (line: string) => void;
}

export interface RunResult {
  argv: Argv;
  exitCode: number | undefined;
  timedOut: boolean;
  durationMs: number;
  output: string;
}

/**
 * Runs one command as an argument array. The child leads its own process group so that a timeout kills
 * everything it started (compose, buildkit helpers, psql), not just the direct child.
 */
export async function run(argv: Argv, opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  // Loaded on the first command: a phase that runs none never pays for execa.
  const { execa } = await import('execa');
  const started = performance.now();
  let log: ReturnType<typeof createWriteStream> | undefined;
  if (opts.logFile) {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    log = createWriteStream(opts.logFile, { flags: 'a', mode: 0o640 });
  }
  const child = execa(argv[0], argv.slice(1), {
    cwd: opts.cwd,
    env: opts.env,
    all: true,
    reject: false,
    detached: true,
    stdin: 'ignore',
    buffer: true,
    maxBuffer: 64 * 1024 * 1024,
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid, 'SIGTERM');
    setTimeout(() => killGroup(child.pid, 'SIGKILL'), 3000).unref();
  }, timeoutMs);
  let pending = '';
  child.all?.on('data', (chunk: Buffer) => {
    log?.write(chunk);
    if (!opts.onLine) return;
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) opts.onLine(l);
  });
  try {
    await stepInProgress();
    const result = await child;
    if (pending && opts.onLine) opts.onLine(pending);
    return {
      argv,
      exitCode: result.exitCode,
      timedOut,
      durationMs: performance.now() - started,
      output: String(result.all ?? ''),
    };
  } catch (err) {
    throw new CouldNotCheck(`could not start ${argv[0]}: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timer);
    await new Promise<void>((r) => (log ? log.end(r) : r()));
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals) {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** The last n non-empty lines of a command's output, for a failure message. */
export function tail(output: string, n = 15): string {
  return output
    .split('\n')
    .filter((l) => l.trim())
    .slice(-n)
    .join('\n');
}
