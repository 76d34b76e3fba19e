// Global setup of the gate: no earlier decision may survive this run. When the gate cannot even start
// (a configuration error), the artefacts still say HOLD, and why. The exit code is the decision's
// (lib/harness/reporter.ts, from what the gate's tests carry).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { reportsDirFrom, runOptions } from '../lib/harness/config.js';
import phaseSetup from '../lib/harness/phase-setup.js';
import { gateArtefacts, writeHold } from './hold.js';

export default async function setup(project: TestProject) {
  const reportsDir = reportsDirFrom();
  for (const f of gateArtefacts) rmSync(join(reportsDir, f), { force: true });
  // No secrets are known yet: the configuration that would name them is what failed. Config errors never echo secret values.
  const hold = (why: string) =>
    writeHold(`the gate could not start: ${why}`, {
      reportsDir,
      target: runOptions().targetName,
      deploySha: 'unknown',
    });
  try {
    await phaseSetup(project, { onConfigError: hold });
  } catch (err) {
    await hold((err as Error).message);
    throw err;
  }
}
