// Global setup of every runbook phase: forget the phase's previous evidence (a run that dies early must
// not leave an older GO behind), then validate the target once and print what differs from its defaults.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { resolveTarget, repoRoot } from './config.js';
import { evidencePath, type Phase } from './evidence.js';
import { headSha } from './git.js';

export default async function setup(project: TestProject) {
  const phase = project.name as Phase;
  const reportsDir = process.env.RUNBOOK_REPORTS_DIR ?? join(repoRoot, 'reports');
  rmSync(evidencePath(reportsDir, phase), { force: true });
  rmSync(join(reportsDir, `${phase}.junit.xml`), { force: true });
  const { target, overrides } = resolveTarget();
  const sha = await headSha(target.projectDir).catch(() => 'unknown');
  const lines = [`runbook ${phase} — target ${target.name} (${target.projectDir}), DEPLOY_SHA ${sha}`];
  for (const o of overrides) lines.push(`  ${o.env}=${o.value}`);
  process.stdout.write(lines.join('\n') + '\n');
}
