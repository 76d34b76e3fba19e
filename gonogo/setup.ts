// Global setup of the gate: no earlier decision may survive this run. When the gate cannot even start
// (a configuration error), the artefacts still say HOLD, and why.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { repoRoot } from '../lib/config.js';
import phaseSetup from '../lib/phase-setup.js';
import { writeGateArtefacts } from './artefacts.js';
import { conditions, type GateResult } from './gate.js';

export default async function setup(project: TestProject) {
  const reportsDir = process.env.RUNBOOK_REPORTS_DIR ?? join(repoRoot, 'reports');
  for (const f of ['gonogo.junit.xml', 'gonogo.html', 'gonogo.md', join('evidence', 'gate.json')]) rmSync(join(reportsDir, f), { force: true });
  try {
    await phaseSetup(project);
  } catch (err) {
    const reason = `the gate could not start: ${(err as Error).message}`;
    const hold = (c: { n: number; title: string; threshold: string; action: string }) => ({
      ...c,
      verdict: 'HOLD' as const,
      outcome: 'could-not-run' as const,
      measured: 'nothing measured',
      reason,
      evidenceAgeMin: undefined,
      evidenceFile: join(reportsDir, 'evidence'),
    });
    const g: GateResult = {
      decision: 'HOLD',
      target: process.env.RUNBOOK_TARGET ?? 'staging',
      deploySha: 'unknown',
      decidedAt: new Date().toISOString(),
      conditions: conditions.map(hold),
      completeness: hold({ n: 8, title: 'Every other blocking check of preflight, deploy and smoke', threshold: 'all passed', action: 'HOLD — page Bolt' }),
      advisories: [],
      evidenceFiles: [],
    };
    // No secrets are known yet: the configuration that would name them is what failed. Config errors never echo secret values.
    writeGateArtefacts(g, reportsDir, []);
    throw err;
  }
}
