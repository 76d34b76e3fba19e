// Operations on the target's running stack shared by deploy and rollback: compose up/stop of services,
// and the health waits that follow.
import { join } from 'node:path';
import { compose, composeArgs, detectCompose, type ComposeProject } from '../probes/compose.js';
import { tail } from '../core/exec.js';
import { CouldNotCheck } from '../core/errors.js';
import { get } from '../probes/http.js';
import { progress } from '../core/progress.js';
import { waitUntil } from '../core/wait.js';

/** The compose project of a target: its checkout, compose file and project name. */
export async function composeFor(t: {
  projectDir: string;
  composeFile: string;
  composeProject: string;
}): Promise<ComposeProject> {
  return {
    flavour: await detectCompose(),
    file: join(t.projectDir, t.composeFile),
    projectDir: t.projectDir,
    projectName: t.composeProject,
  };
}

export interface ComposeStepOptions {
  logFile: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Runs one compose command for a step with live progress; a non-zero exit is an error carrying the output tail. */
export async function composeStep(
  p: ComposeProject,
  title: string,
  argv: Parameters<typeof compose>[1],
  opts: ComposeStepOptions,
) {
  const show = progress(title);
  const r = await compose(p, argv, {
    logFile: opts.logFile,
    timeoutMs: opts.timeoutMs ?? 120_000,
    env: opts.env,
    onLine: (l) => show.line(l),
  });
  show.done(r.exitCode === 0 ? 'done' : r.timedOut ? 'TIMED OUT' : `FAILED (exit ${r.exitCode})`);
  return { ...r, tailText: tail(r.output) };
}

export async function up(p: ComposeProject, services: string[], logFile: string) {
  const r = await composeStep(p, `compose up -d ${services.join(' ')}`, composeArgs.up(p, services), { logFile });
  if (r.exitCode !== 0)
    throw new CouldNotCheck(
      `compose up -d ${services.join(' ')} exited ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}:\n${r.tailText}`,
    );
  return r;
}

/** Waits for an HTTP health endpoint to answer 200. */
export async function waitHttp200(url: string, opts: { caFile?: string; timeoutMs: number }) {
  return waitUntil(
    async () => {
      const r = await get(url, { caFile: opts.caFile, timeoutMs: 2000 });
      return r.status === 200 ? { ready: true, value: r.status } : { ready: false, last: `HTTP ${r.status}` };
    },
    { what: `GET ${url} → 200`, timeoutMs: opts.timeoutMs, intervalMs: 50 },
  );
}
