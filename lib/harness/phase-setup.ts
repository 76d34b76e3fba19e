// Global setup of every runbook phase: validate the target once and print what differs from its defaults;
// for a deploy or rollback, print the plan and hold a production run until it is confirmed (a dry run stops
// there, having changed nothing); then forget the phase's previous evidence, so a run that dies early never
// leaves an older GO behind.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { resolveTarget, repoRoot } from './config.js';
import { writeAtomic } from '../core/atomic.js';
import { evidencePath, writeEvidence, type Phase } from './evidence.js';
import { headSha } from '../probes/git.js';
import { dryRunEnv, gatekeep } from './planning.js';
import { phaseJunit } from './reporter.js';

export default async function setup(project: TestProject) {
  const phase = project.name as Phase;
  const reportsDir = process.env.RUNBOOK_REPORTS_DIR ?? join(repoRoot, 'reports');
  const changesStack = phase === 'deploy' || phase === 'rollback';
  const forget = () => {
    rmSync(evidencePath(reportsDir, phase), { force: true });
    rmSync(join(reportsDir, `${phase}.junit.xml`), { force: true });
  };
  let resolvedTarget: ReturnType<typeof resolveTarget>;
  try {
    resolvedTarget = resolveTarget();
  } catch (err) {
    const message = (err as Error).message;
    process.stderr.write(`\n${phase} cannot start: ${message}\n`);
    if (changesStack && process.env[dryRunEnv] === '1') throw err;
    // The run stops before any check; the evidence and JUnit still say why, so the gate holds with a reason.
    forget();
    const now = new Date().toISOString();
    const evidence = {
      phase,
      target: process.env.RUNBOOK_TARGET ?? 'staging',
      deploySha: 'unknown',
      startedAt: now,
      finishedAt: now,
      outcome: `configuration error: ${message}`,
      checks: [
        {
          id: `${phase}.config`,
          title: `${phase}: configuration`,
          status: 'error' as const,
          message,
          action: 'Fix the setting named above',
          at: now,
        },
      ],
    };
    writeEvidence(reportsDir, evidence);
    if (phase !== 'gonogo') writeAtomic(join(reportsDir, `${phase}.junit.xml`), phaseJunit(evidence));
    throw err;
  }
  const { target, overrides } = resolvedTarget;
  const sha = await headSha(target.projectDir).catch(() => 'unknown');
  const lines = [`runbook ${phase} — target ${target.name} (${target.projectDir}), checkout ${sha}`];
  for (const o of overrides) lines.push(`  ${o.env}=${o.value}`);
  process.stdout.write(lines.join('\n') + '\n');
  if (changesStack) await gatekeep(phase, target, process.env, (s) => process.stdout.write(s));
  forget();
  if (changesStack) {
    // A marker that the reporter replaces when the run ends: a run killed part-way leaves it, and the gate
    // holds on a deploy or rollback that started and never finished.
    const now = new Date().toISOString();
    writeEvidence(reportsDir, {
      phase,
      target: target.name,
      deploySha: 'unknown',
      startedAt: now,
      finishedAt: now,
      outcome: 'started',
      checks: [],
    });
  }
}
