// npm run launch: preflight → deploy → smoke → gonogo. Stops at the first phase that fails and always
// ends with the Go/No-Go decision artefact; a stop before smoke is a HOLD with the reason.
import { commandLine } from '../lib/harness/cli.js';
import { reportsDirFrom, resolveFor } from '../lib/harness/config.js';
import { clearLaunchStop, forgetEvidence, phases, writeLaunchStop } from '../lib/harness/evidence.js';
import { runPhase } from './phases.js';

export async function launch(
  opts: { echo?: boolean; env?: Record<string, string | undefined> } = {},
): Promise<{ decision: 'GO' | 'HOLD'; stopped?: string; reportsDir: string }> {
  const env = { ...process.env, ...opts.env };
  const reportsDir = reportsDirFrom(env);
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
  }
  for (const phase of stopped ? [] : (['preflight', 'deploy', 'smoke'] as const)) {
    say(`\n=== npm run ${phase} ===\n`);
    const r = await runPhase(phase, { echo, env: opts.env });
    if (r.exitCode !== 0) {
      stopped = stop(`${phase} failed${r.timedOut ? ' (timed out)' : ` (exit ${r.exitCode})`}; later phases not run`);
      break;
    }
  }
  say('\n=== npm run gonogo ===\n');
  const g = await runPhase('gonogo', { echo, env: opts.env });
  return { decision: g.exitCode === 0 ? 'GO' : 'HOLD', stopped, reportsDir };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  commandLine({
    usage: 'npm run launch --',
    summary:
      'preflight → deploy → smoke → gonogo against the configured target (RUNBOOK_TARGET, staging by default). Stops at\nthe first phase that fails; always ends with the Go/No-Go decision and its artefacts.',
  });
  launch().then(
    (r) => {
      process.stdout.write(
        `\nDecision: ${r.decision}${r.stopped ? ` — ${r.stopped}` : ''}\nArtefacts: ${r.reportsDir}/gonogo.html, gonogo.junit.xml, gonogo.md\n`,
      );
      process.exit(r.decision === 'GO' ? 0 : 1);
    },
    (err: Error) => {
      process.stderr.write(`launch could not run: ${err.message}\n`);
      process.exit(2);
    },
  );
}
