// npm run launch: preflight → deploy → smoke → gonogo. Stops at the first phase that fails and always
// ends with the Go/No-Go decision artefact; a stop before smoke is a HOLD with the reason. Phases that change
// nothing run together in one Vitest process, in runbook order (each writes its evidence as it ends, and one
// whose earlier phases did not pass records its checks as not run); deploy runs in a process of its own, after
// preflight passed, so its plan and confirmation come when they always have. `-- --no-deploy` is that one
// process alone, started by scripts/launch.sh without this wrapper; launch({ deploy: false }) runs the same.
import { join } from 'node:path';
import { commandLine, exitCode } from '../lib/harness/cli.js';
import { repoRoot, reportsDirFrom, resolveFor } from '../lib/harness/config.js';
import { run } from '../lib/core/exec.js';
import {
  clearLaunchStop,
  forgetEvidence,
  phases,
  readLaunchStop,
  writeLaunchStop,
  type Phase,
} from '../lib/harness/evidence.js';
import { runPhase } from './phases.js';

export interface LaunchOptions {
  echo?: boolean;
  env?: Record<string, string | undefined>;
  /** preflight → smoke → gonogo, without a deploy: all in one Vitest process. @default true */
  deploy?: boolean;
  /** Each line the phases print, as it comes. */
  onLine?: (line: string) => void;
}

/** GO only when the process that ran the gate exits 0: its exit code is the decision that run made. */
export function launchDecision(exitCode: number | undefined): 'GO' | 'HOLD' {
  return exitCode === 0 ? 'GO' : 'HOLD';
}

export interface LaunchResult {
  decision: 'GO' | 'HOLD';
  /** Why the launch stopped before the gate, when it did. */
  stopped?: string;
  /** A phase could not start (bad configuration): the command's exit code is 2, the decision still HOLD. */
  couldNotStart: boolean;
  reportsDir: string;
}

/** The exit code of `npm run launch`, as for every command: 0 GO, 1 HOLD, 2 could not start. */
export const launchExitCode = (r: LaunchResult) =>
  r.couldNotStart ? exitCode.couldNotStart : r.decision === 'GO' ? exitCode.pass : exitCode.hold;

export async function launch(opts: LaunchOptions = {}): Promise<LaunchResult> {
  const env = { ...process.env, ...opts.env };
  const reportsDir = reportsDirFrom(env);
  let couldNotStart = false;
  const decide = (exit: number | undefined, stopped?: string) => ({
    decision: launchDecision(exit),
    stopped: stopped ?? readLaunchStop(reportsDir),
    // What a phase's setup exits with when its configuration is wrong (lib/harness/phase-setup.ts).
    couldNotStart: couldNotStart || exit === exitCode.couldNotStart,
    reportsDir,
  });
  if (opts.deploy === false) {
    const r = await run(['sh', join(repoRoot, 'scripts', 'launch.sh'), '--no-deploy'], {
      env: { FORCE_COLOR: '0', ...opts.env },
      timeoutMs: 30 * 60_000,
      onLine: (l) => {
        if (opts.echo ?? true) process.stdout.write(`${l}\n`);
        opts.onLine?.(l);
      },
    });
    return decide(r.exitCode);
  }
  for (const p of phases) forgetEvidence(reportsDir, p);
  clearLaunchStop(reportsDir);
  const echo = opts.echo ?? true;
  const say = (s: string) => echo && process.stdout.write(s);
  const stop = (why: string) => {
    writeLaunchStop(reportsDir, why);
    return why;
  };
  let stopped: string | undefined;
  try {
    resolveFor('all', env);
  } catch (err) {
    // The gate still runs: it cannot start either, and says HOLD with this reason.
    stopped = stop(`configuration error: ${(err as Error).message}`);
    couldNotStart = true;
  }
  const separate: Phase[] = ['preflight', 'deploy'];
  for (const phase of stopped ? [] : separate) {
    say(`\n=== npm run ${phase} ===\n`);
    const r = await runPhase(phase, { echo, env: opts.env, onLine: opts.onLine });
    if (r.exitCode !== 0) {
      couldNotStart = r.exitCode === exitCode.couldNotStart;
      stopped = stop(`${phase} failed${r.timedOut ? ' (timed out)' : ` (exit ${r.exitCode})`}; later phases not run`);
      break;
    }
  }
  const together: Phase[] = stopped ? ['gonogo'] : ['smoke', 'gonogo'];
  say(`\n=== ${together.map((p) => `npm run ${p}`).join(' → ')} (one process) ===\n`);
  const g = await runPhase(together, { echo, env: opts.env, onLine: opts.onLine });
  return decide(g.exitCode, stopped);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { flags } = commandLine({
    usage: 'npm run launch --',
    summary:
      'preflight → deploy → smoke → gonogo against the configured target (RUNBOOK_TARGET, staging by default). Stops at\nthe first phase that fails; always ends with the Go/No-Go decision and its artefacts.',
    flags: { 'no-deploy': 'preflight → smoke → gonogo on what runs now, in one Vitest process' },
  });
  launch({ deploy: !flags['no-deploy'] }).then(
    (r) => {
      const why = r.stopped ?? (r.couldNotStart ? 'a phase could not start: its configuration error is above' : '');
      process.stdout.write(
        `\nDecision: ${r.decision}${why ? ` — ${why}` : ''}\nArtefacts: ${r.reportsDir}/gonogo.html, gonogo.junit.xml, gonogo.md\n`,
      );
      process.exit(launchExitCode(r));
    },
    (err: Error) => {
      process.stderr.write(`launch could not run: ${err.message}\n`);
      process.exit(2);
    },
  );
}
