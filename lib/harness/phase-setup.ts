// Global setup of every runbook phase: resolve the run once (settings, checkout, reports folder, plan; the running
// build is measured beside the first tests, lib/harness/run-start.ts) and hand it to the specs and the reporter
// with `provide`; print what differs from the target's defaults; for a deploy or rollback, print the plan and hold
// a production run until it is confirmed (a dry run stops there, having changed nothing); then forget the phase's
// previous evidence, so a run that dies early never leaves an older GO behind.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { writeAtomic } from '../core/atomic.js';
import { phaseSettings, reportsDirFrom, resolveFor, runOptions, snapshotSettings, type Resolved } from './config.js';
import { scrubOutput } from '../core/secret.js';
import { measureRunStart } from './run-start.js';
import { forgetEvidence, phases, writeEvidence, writesEvidence, type Phase } from './evidence.js';
import { phaseJunit } from './junit.js';
import type { RunContext } from './run.js';
import { exitCode } from './cli.js';

/** The phases whose setup needs the project checkout: deploy plans from it. Preflight's 1.1 reads it itself. */
const readsCheckout: ReadonlySet<Phase> = new Set(['deploy']);

/** The phases whose evidence speaks for the build that ran throughout them, measured as they start and end. */
const measuresAtStart: ReadonlySet<Phase> = new Set(['preflight', 'smoke']);

const reporterModule = fileURLToPath(new URL('./reporter', import.meta.url));

/**
 * Why a run with these reporters (Vitest's resolved `reporters`) must not start; undefined when the runbook's
 * reporter is among them: the instance the config makes, or its module named on the command line.
 */
export function reporterProblem(reporters: readonly unknown[], root = process.cwd()): string | undefined {
  const named = (r: unknown) => {
    const name = Array.isArray(r) ? r[0] : r;
    return typeof name === 'string' && resolve(root, name).replace(/\.[cm]?[jt]s$/, '') === reporterModule;
  };
  const ours = reporters.some((r) => (typeof r === 'object' && r !== null && writesEvidence in r) || named(r));
  return ours
    ? undefined
    : "the runbook's reporter is not in this run (a --reporter flag replaces the configured ones): without it the run writes no evidence for the gate and does not scrub secrets from its output. Drop the flag, or add --reporter=./lib/harness/reporter.ts beside it";
}

/**
 * The phases of this run that must pass before `phase` runs: those before it in runbook order. The gate
 * waits for none: it always runs, and holds on whatever did not pass.
 */
export function earlierPhases(phase: Phase, inThisRun: readonly string[]): Phase[] {
  if (phase === 'gonogo') return [];
  const order = phases.indexOf(phase);
  return phases.filter((p, i) => i < order && p !== 'gonogo' && inThisRun.includes(p));
}

export default async function setup(
  project: TestProject,
  opts: {
    onConfigError?: (message: string) => void | Promise<void>;
    /** Called once the run forgets the phase's earlier evidence: that evidence is about to change. */
    onStart?: (reportsDir: string, phase: Phase, startedAt: string) => void | Promise<void>;
  } = {},
) {
  const phase = project.name as Phase;
  const startedAt = new Date().toISOString();
  const reportsDir = reportsDirFrom();
  const changesStack = phase === 'deploy' || phase === 'rollback';
  const forget = async () => {
    forgetEvidence(reportsDir, phase, startedAt);
    rmSync(join(reportsDir, `${phase}.junit.xml`), { force: true });
    await opts.onStart?.(reportsDir, phase, startedAt);
  };
  let resolvedTarget: Resolved;
  try {
    const missing = reporterProblem(project.vitest.config.reporters, project.vitest.config.root);
    if (missing) throw new Error(missing);
    resolvedTarget = resolveFor(phaseSettings[phase] ?? 'all');
  } catch (err) {
    const message = (err as Error).message;
    process.stderr.write(`\n${phase} cannot start: ${message}\n`);
    if (changesStack && runOptions().dryRun) process.exit(exitCode.couldNotStart);
    // The run stops before any check; the evidence and JUnit still say why, so the gate holds with a reason.
    await forget();
    const evidence = {
      phase,
      target: runOptions().targetName,
      deploySha: 'unknown',
      startedAt,
      finishedAt: startedAt,
      outcome: `configuration error: ${message}`,
      checks: [
        {
          id: `${phase}.config`,
          title: `${phase}: configuration`,
          status: 'error' as const,
          message,
          action: 'Fix the setting named above',
          at: startedAt,
        },
      ],
    };
    writeEvidence(reportsDir, evidence);
    if (phase !== 'gonogo') writeAtomic(join(reportsDir, `${phase}.junit.xml`), phaseJunit(evidence));
    await opts.onConfigError?.(message);
    // The message above says all there is to say: no stack trace, no Vitest internals.
    process.exit(exitCode.couldNotStart);
  }
  const { target, overrides } = resolvedTarget;
  // This process prints the plan and the reporter's summaries: its output is scrubbed from here on.
  scrubOutput(target.secretValues);
  // Git, Docker and the planning code load only in the phases that use them: every phase pays for what it imports.
  const checkout = readsCheckout.has(phase)
    ? await (await import('../probes/git.js')).headSha(target.projectDir).catch(() => undefined)
    : undefined;
  const lines = [
    `runbook ${phase} — target ${target.name} (${target.projectDir})${checkout ? `, checkout ${checkout}` : ''}`,
  ];
  for (const o of overrides) lines.push(`  ${o.env}=${o.value}`);
  process.stdout.write(lines.join('\n') + '\n');
  const plan = changesStack
    ? await (
        await import('./planning.js')
      ).gatekeep(phase, target, checkout, runOptions(), (s) => process.stdout.write(s))
    : undefined;
  // A phase that changes nothing vouches for the build that ran throughout: measured as it starts (beside its first
  // tests), and again as it ends.
  if (measuresAtStart.has(phase)) {
    const { identify } = await import('./identify.js');
    measureRunStart(() => identify(target));
  }
  const run: RunContext = {
    phase,
    settings: snapshotSettings(resolvedTarget),
    target: target.name,
    projectDir: target.projectDir,
    reportsDir: target.reportsDir,
    checkout,
    plan,
    startedAt,
    after: earlierPhases(
      phase,
      project.vitest.projects.map((p) => p.name),
    ),
  };
  project.provide('run', run);
  await forget();
  if (changesStack) {
    // A marker that the reporter replaces when the run ends: a run killed part-way leaves it, and the gate
    // holds on a deploy or rollback that started and never finished.
    writeEvidence(target.reportsDir, {
      phase,
      target: target.name,
      deploySha: 'unknown',
      startedAt,
      finishedAt: startedAt,
      outcome: 'started',
      checks: [],
    });
  }
}
